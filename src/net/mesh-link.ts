/**
 * The user's link to one remote miner over libp2p: a {@link MinerLink} whose jobs are
 * `/cerberus/linear/2.0.0` requests pipelined on one long-lived stream (job-stream.ts). The
 * miner already holds the model's public weights, so `prepare` only records the plan;
 * `compute` sends the ciphertexts and returns the miner's — still unverified — result
 * ciphertexts. A stream that dies is reopened and its jobs are sent again.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { CerberusError } from '../core/errors.ts'
import { paramsKey, planToData, type MatvecPlan } from '../core/he/index.ts'
import { ERROR_CODES } from '../core/protocol/index.ts'
import type { MinerLink } from '../core/engine/index.ts'
import { baseMatrixId } from '../core/squeeze/index.ts'
import { openJobStream, StreamClosedError, type JobStream } from './job-stream.ts'

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
 * Jobs one user has open on one miner at once; more wait their turn here. A round of the
 * encrypted backend has at most 16 in flight (HE_BACKEND_LIMITS), and a miner queues 24
 * per session (MINER_QUEUE): 16 keeps a round in one round trip without meeting MINER_BUSY.
 */
export const MAX_JOBS_IN_FLIGHT_PER_MINER = 16

/** Sends of one job over fresh streams when its stream dies under it (the first and one more). */
const SENDS_PER_JOB = 2

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
export function meshMinerLink (node: Libp2p, target: PeerId | Multiaddr, opts: MeshLinkOptions): MinerLink & { readonly streamsOpened: number } {
  const plans = new Map<string, MatvecPlan>()
  const name = 'toString' in target ? target.toString() : String(target)
  // The session's Galois key sets (per packed parameter set), and the streams that have them.
  const keySets = new Map<string, Uint8Array>()
  const keyed = new WeakSet<JobStream>()
  let stream: JobStream | undefined
  let opening: Promise<JobStream> | undefined
  let streamsOpened = 0
  let seq = 0
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
  /** The open stream, opening one (once, for every job waiting on it) when there is none. */
  const current = async (signal: AbortSignal): Promise<JobStream> => {
    if (stream?.usable === true) return stream
    opening ??= openJobStream(node, target, signal).then(s => { stream = s; streamsOpened++; return s }).finally(() => { opening = undefined })
    return await opening
  }

  async function computeOne (matrixId: string, inputs: Uint8Array[], jobId: string, blocks?: readonly [number, number]): Promise<{ results: Uint8Array[], minerMs: number, bytesSent: number }> {
    const plan = plans.get(matrixId)
    if (plan === undefined) throw new MinerJobError('UNKNOWN_MATRIX', `matrix ${matrixId} has no plan`, jobId, name)
    const signal = AbortSignal.timeout(opts.timeoutMs ?? 60_000)
    const t0 = performance.now()
    // A wire id unique on this link (the same job may come back here after failing elsewhere).
    const wireJob = `${jobId}@${++seq}`
    let sent = 0
    const fail = (code: string, message: string, cause?: unknown): MinerJobError => {
      const e = cause instanceof MinerJobError ? cause : new MinerJobError(code, message, jobId, name, cause)
      e.bytesSent += sent
      return e
    }
    const observe = (frame: Uint8Array): void => { sent += frame.byteLength; opts.onSend?.(frame) }
    let keysResent = false
    for (let send = 1; ; send++) {
      let s: JobStream
      try {
        s = await current(signal)
      } catch (err) {
        throw fail(signal.aborted ? 'MINER_TIMEOUT' : 'MINER_UNREACHABLE', `cannot reach miner ${name}: ${(err as Error).message}`, err)
      }
      try {
        // A packed job needs the session's Galois keys on the miner: sent once per stream,
        // ahead of the job on the same ordered stream.
        if (plan.scheme === 'packed' && !keyed.has(s)) {
          keyed.add(s)
          for (const keys of keySets.values()) await s.send({ type: 'keys', session: opts.session, keys }, observe)
        }
        const reply = await s.request({ type: 'request', session: opts.session, job: wireJob, matrix: baseMatrixId(matrixId), plan: planToData(plan), ...(blocks === undefined ? {} : { blocks }), ciphertexts: inputs }, signal, observe)
        if (reply.type === 'error' && reply.code === ERROR_CODES.UNKNOWN_KEYS && !keysResent) {
          // the miner lost this session's keys (evicted, restarted): send them again and retry once
          keysResent = true
          keyed.delete(s)
          send--
          continue
        }
        if (reply.type === 'error') throw fail(reply.code, `miner ${name} failed job ${jobId}: ${reply.message}`)
        const wanted = blocks === undefined ? plan.split.blocks : blocks[1] - blocks[0]
        // Coefficient jobs: one result per block. Packed: one per packing tree a worker's range
        // touches — at least one, at most one per block (the user's decryption checks coverage).
        const ok = plan.scheme === 'packed' ? reply.ciphertexts.length >= 1 && reply.ciphertexts.length <= wanted : reply.ciphertexts.length === wanted
        if (!ok) throw fail('BAD_REPLY', `miner ${name} answered job ${jobId} with ${reply.ciphertexts.length} results, expected ${plan.scheme === 'packed' ? `1 to ${wanted}` : wanted}`)
        return { results: reply.ciphertexts, minerMs: performance.now() - t0, bytesSent: sent }
      } catch (err) {
        if (err instanceof MinerJobError) throw err
        // the stream died under the job: open another and send it again (nothing is lost)
        if (err instanceof StreamClosedError && send < SENDS_PER_JOB && !signal.aborted) continue
        if (signal.aborted) throw fail('MINER_TIMEOUT', `job ${jobId} on miner ${name} got no answer in time`, err)
        throw fail((err as CerberusError).code === 'BAD_REPLY' ? 'BAD_REPLY' : 'MINER_FAILED', `job ${jobId} on miner ${name} failed: ${(err as Error).message}`, err)
      }
    }
  }

  return {
    name,
    get streamsOpened () { return streamsOpened },
    async prepare (matrixId, plan) {
      plans.set(matrixId, plan)
    },
    async setKeys (plan, keys) {
      keySets.set(paramsKey(plan.params), keys)
      if (stream !== undefined) keyed.delete(stream) // new keys: the open stream sends them before its next packed job
    },
    async compute (matrixId, inputs, jobId, blocks) {
      await acquire()
      try {
        return await computeOne(matrixId, inputs, jobId, blocks)
      } finally {
        release()
      }
    },
    close () {
      stream?.close()
      stream = undefined
    }
  }
}
