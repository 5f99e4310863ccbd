/**
 * The user's link to one remote miner over libp2p: a {@link MinerLink} whose jobs are
 * `/cerberus/linear/1.0.0` requests on fresh streams. The miner already holds the model's
 * public weights, so `prepare` only records the plan; `compute` sends the ciphertexts and
 * returns the miner's — still unverified — result ciphertexts.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { CerberusError } from '../core/errors.ts'
import { planToData, type MatvecPlan } from '../core/he/index.ts'
import { LINEAR_PROTOCOL } from '../core/protocol/index.ts'
import type { MinerLink } from '../core/engine/index.ts'
import { readMessage, sendMessage } from './frames.ts'

/** A remote miner failed a job (it answered an error, timed out, or went away). */
export class MinerJobError extends CerberusError {
  readonly job: string
  readonly miner: string
  /** Bytes that went on the wire for the failed attempt(s) (receipts count them). */
  bytesSent = 0
  constructor (code: string, message: string, job: string, miner: string, cause?: unknown) {
    super(code, message, { cause })
    this.job = job
    this.miner = miner
  }
}

/**
 * Jobs one user has open on one miner at once; more wait their turn here. A generation has
 * one or two in flight per miner; a burst of 20 fresh streams on one connection made libp2p
 * reset some of them during protocol negotiation (measured here), so bursts are queued.
 */
export const MAX_JOBS_IN_FLIGHT_PER_MINER = 8

/** Options of {@link meshMinerLink}. */
export interface MeshLinkOptions {
  /** The user's session id (the miner queues per session). */
  readonly session: string
  /** Per-job timeout in ms (default 60 s). */
  readonly timeoutMs?: number
  /** Sees every frame the user sends to the miner (audits and the privacy tests). */
  readonly onSend?: (frame: Uint8Array) => void
}

/** A MinerLink to the miner at `target` (a PeerId or a multiaddr) through `node`. */
export function meshMinerLink (node: Libp2p, target: PeerId | Multiaddr, opts: MeshLinkOptions): MinerLink {
  const plans = new Map<string, MatvecPlan>()
  const name = 'toString' in target ? target.toString() : String(target)
  // One connection attempt at a time: concurrent jobs to a miner not yet connected (split
  // parts, a burst after a reconnect) would otherwise race their own dials, and libp2p may
  // close the duplicate connections under their streams.
  let connecting: Promise<unknown> | undefined
  let inFlight = 0
  const waiting: Array<() => void> = []
  const acquire = async (): Promise<void> => {
    if (inFlight < MAX_JOBS_IN_FLIGHT_PER_MINER) { inFlight++; return }
    await new Promise<void>(resolve => { waiting.push(resolve) })
  }
  const release = (): void => {
    const next = waiting.shift()
    if (next !== undefined) next() // the slot passes on
    else inFlight--
  }
  const connect = async (signal: AbortSignal): Promise<void> => {
    connecting ??= node.dial(target, { signal }).finally(() => { connecting = undefined })
    await connecting
  }
  return {
    name,
    async prepare (matrixId, plan) {
      plans.set(matrixId, plan)
    },
    async compute (matrixId, inputs, jobId, blocks) {
      await acquire()
      try {
        return await computeOne(matrixId, inputs, jobId, blocks)
      } finally {
        release()
      }
    }
  }

  async function computeOne (matrixId: string, inputs: Uint8Array[], jobId: string, blocks?: readonly [number, number]): Promise<{ results: Uint8Array[], minerMs: number, bytesSent: number }> {
    const plan = plans.get(matrixId)
    if (plan === undefined) throw new MinerJobError('UNKNOWN_MATRIX', `matrix ${matrixId} has no plan`, jobId, name)
    const signal = AbortSignal.timeout(opts.timeoutMs ?? 60_000)
    const t0 = performance.now()
    let stream
    try {
      await connect(signal)
      stream = await node.dialProtocol(target, LINEAR_PROTOCOL, { signal })
    } catch (err) {
      throw new MinerJobError('MINER_UNREACHABLE', `cannot reach miner ${name}: ${(err as Error).message}`, jobId, name, err)
    }
    let sent = 0
    try {
      // read first: a miner may answer at once (MINER_BUSY) and close before our send drains
      const replying = readMessage(stream, signal)
      replying.catch(() => {}) // awaited below; this only keeps an early failure from going unhandled
      await sendMessage(stream, { type: 'request', session: opts.session, job: jobId, matrix: matrixId, plan: planToData(plan), ...(blocks === undefined ? {} : { blocks }), ciphertexts: inputs }, signal, frame => { sent += frame.byteLength; opts.onSend?.(frame) })
      const reply = await replying
      await stream.close().catch(() => {})
      if (reply.type === 'error') throw new MinerJobError(reply.code, `miner ${name} failed job ${jobId}: ${reply.message}`, jobId, name)
      const want = blocks === undefined ? plan.split.blocks : blocks[1] - blocks[0]
      if (reply.type === 'result' && reply.job === jobId && reply.ciphertexts.length !== want) throw new MinerJobError('BAD_REPLY', `miner ${name} answered job ${jobId} with ${reply.ciphertexts.length} results, expected ${want}`, jobId, name)
      if (reply.type !== 'result' || reply.job !== jobId) throw new MinerJobError('BAD_REPLY', `miner ${name} answered job ${jobId} with something else`, jobId, name)
      return { results: reply.ciphertexts, minerMs: performance.now() - t0, bytesSent: sent }
    } catch (err) {
      stream.abort(err as Error)
      const e = err instanceof MinerJobError ? err : new MinerJobError(signal.aborted ? 'MINER_TIMEOUT' : 'MINER_FAILED', `job ${jobId} on miner ${name} failed: ${(err as Error).message}`, jobId, name, err)
      e.bytesSent += sent
      throw e
    }
  }
}
