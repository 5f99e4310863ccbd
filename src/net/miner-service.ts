/**
 * The miner service: answers `/cerberus/linear/1.0.0` jobs for one model.
 *
 * The miner loads the model's public weights itself and squeezes them the way users do
 * (fusion and folding are deterministic), so a request names a matrix ("qkv:3:0") and a
 * plan, and carries only ciphertexts. Matrices are encoded for a plan on first use and
 * cached. Jobs are queued per session and served round-robin (one session cannot starve
 * the others); the queue is bounded (a full queue answers MINER_BUSY at once — the
 * back-pressure users see); a job whose user has gone before it starts is dropped.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import { planFromData, type MatvecPlan } from '../core/he/index.ts'
import { paramsKey } from '../core/he/index.ts'
import { LINEAR_PROTOCOL, type LinearRequest } from '../core/protocol/index.ts'
import { squeezedMatrix, type SqueezedModel } from '../core/squeeze/index.ts'
import type { QuantizedMatrix } from '../core/model/index.ts'
import { serializeError } from '../core/errors.ts'
import { readMessage, sendMessage } from './frames.ts'

/** What computes the encrypted products (a miner worker pool, or an in-thread miner). */
export interface MinerCompute {
  /** Encode blocks [first, end) of a matrix (default all) under an id. */
  prepare: (matrixId: string, plan: MatvecPlan, w: Int8Array, blocks?: readonly [number, number]) => Promise<unknown>
  compute: (matrixId: string, inputs: Uint8Array[]) => Promise<Uint8Array[]>
}

/** Bounds of the job queue, and why. */
export const MINER_QUEUE = Object.freeze({
  /** Jobs waiting in total: ~3 tokens of a 5-layer model; more only adds latency. */
  maxQueued: 64,
  /** Jobs waiting per session: one token's worth of layers in flight. */
  maxPerSession: 24,
  /** How long a request may take to arrive once its stream opened. */
  readTimeoutMs: 30_000
})

/** Counters of a running service. */
export interface MinerServiceStats {
  jobs: number
  failed: number
  busy: number
  dropped: number
  bytesIn: number
  bytesOut: number
  computeMs: number
}

/** A running miner service. */
export interface MinerService {
  readonly stats: MinerServiceStats
  /** Jobs waiting now. */
  readonly queued: number
  /**
   * Paused: new jobs are refused at once with MINER_BUSY (users' schedulers move them to
   * another miner); queued jobs still run. A donor tab pauses while hidden, if its user asks.
   */
  paused: boolean
  stop: () => Promise<void>
}

interface Job {
  readonly request: LinearRequest
  readonly stream: Stream
  readonly plan: MatvecPlan
  readonly matrixId: string
}

/**
 * TEST ONLY: how a lying miner lies — 'flip' one bit of every result, 'zero' every result,
 * 'stale': answer each matrix with its previous result (honest the first time a matrix is
 * asked), or `{ flipAfter: N }`: honest for the first N jobs of each session, then 'flip'
 * (a cheat that hopes validators' sessions are short).
 */
export type TamperMode = 'flip' | 'zero' | 'stale' | { readonly flipAfter: number }

/** What a miner sees of one request: whose session, how many bytes of ciphertexts, when. */
export interface ObservedRequest {
  readonly session: string
  readonly bytes: number
  /** performance.now() at arrival. */
  readonly at: number
}

/** Options of {@link startMinerService}. */
export interface MinerServiceOptions {
  /** TEST ONLY: make this miner lie, to prove that users and validators catch it. */
  readonly tamper?: TamperMode
  /** Sees every request as it arrives (what a miner can learn of its users: tests of validators' disguise). */
  readonly onRequest?: (r: ObservedRequest) => void
}

/** Sessions whose jobs a `flipAfter` miner counts (the oldest are forgotten). */
const MAX_COUNTED_SESSIONS = 1024

function tamperWith (mode: 'flip' | 'zero' | 'stale', results: Uint8Array[], previous: Uint8Array[] | undefined): Uint8Array[] {
  if (mode === 'stale') return previous ?? results // the matrix's previous result (the first is honest)
  return results.map(r => {
    const c = r.slice()
    if (mode === 'zero') c.fill(0, 28) // keep the header, zero the coefficients
    else c[c.length - 1] ^= 1 // one bit of a c0 coefficient
    return c
  })
}

/** Serve `model`'s matrices on `node`. */
export async function startMinerService (node: Libp2p, model: SqueezedModel, compute: MinerCompute, opts: MinerServiceOptions = {}): Promise<MinerService> {
  const lastResults = new Map<string, Uint8Array[]>()
  const served = new Map<string, number>() // jobs per session, for `flipAfter`
  const lie = (session: string): 'flip' | 'zero' | 'stale' | undefined => {
    const t = opts.tamper
    if (t === undefined || typeof t === 'string') return t
    const n = (served.get(session) ?? 0) + 1
    served.delete(session)
    served.set(session, n)
    if (served.size > MAX_COUNTED_SESSIONS) served.delete(served.keys().next().value as string)
    return n > t.flipAfter ? 'flip' : undefined
  }
  const stats: MinerServiceStats = { jobs: 0, failed: 0, busy: 0, dropped: 0, bytesIn: 0, bytesOut: 0, computeMs: 0 }
  const queues = new Map<string, Job[]>() // per session, in arrival order
  let queued = 0
  let running = false
  let paused = false
  const prepared = new Map<string, Promise<unknown>>()

  // "qkv:3:0", "o-up:2:0" → the squeezed matrix (either round layout)
  const matrix = (id: string): QuantizedMatrix | undefined => squeezedMatrix(model, id)

  const fail = async (stream: Stream, job: string, code: string, message: string): Promise<void> => {
    stats.failed++
    try {
      await sendMessage(stream, { type: 'error', job, code, message })
      await stream.close()
    } catch {
      stream.abort(new Error(message))
    }
  }

  async function serve (j: Job): Promise<void> {
    if (j.stream.status === 'aborted' || j.stream.status === 'reset' || j.stream.writeStatus === 'closed') { stats.dropped++; return } // the user is gone
    const blocks = j.request.blocks ?? [0, j.plan.split.blocks] as const
    const key = `${j.matrixId}|${paramsKey(j.plan.params)}|${j.plan.split.nI}|${blocks[0]}-${blocks[1]}`
    try {
      let ready = prepared.get(key)
      if (ready === undefined) {
        ready = compute.prepare(key, j.plan, (matrix(j.matrixId) as QuantizedMatrix).q, blocks)
        prepared.set(key, ready)
        ready.catch(() => prepared.delete(key))
      }
      await ready
      const t0 = performance.now()
      let results = await compute.compute(key, j.request.ciphertexts)
      stats.computeMs += performance.now() - t0
      const mode = lie(j.request.session)
      if (mode !== undefined) {
        const honest = results
        results = tamperWith(mode, results, lastResults.get(key))
        lastResults.set(key, honest)
      }
      stats.jobs++
      stats.bytesOut += results.reduce((a, r) => a + r.byteLength, 0)
      await sendMessage(j.stream, { type: 'result', job: j.request.job, ciphertexts: results })
      await j.stream.close()
    } catch (err) {
      const e = serializeError(err)
      await fail(j.stream, j.request.job, e.code, e.message)
    }
  }

  // Round-robin over sessions, one job at a time (the compute pool parallelises within a job).
  async function pump (): Promise<void> {
    if (running) return
    running = true
    try {
      while (queued > 0) {
        for (const [session, q] of [...queues]) {
          const j = q.shift()
          if (q.length === 0) queues.delete(session)
          if (j === undefined) continue
          queued--
          await serve(j)
        }
      }
    } finally {
      running = false
    }
  }

  await node.handle(LINEAR_PROTOCOL, async (stream) => {
    let request: LinearRequest
    try {
      const m = await readMessage(stream, AbortSignal.timeout(MINER_QUEUE.readTimeoutMs))
      if (m.type !== 'request') { await fail(stream, '', 'BAD_REQUEST', `expected a request, got a ${m.type}`); return }
      request = m
      opts.onRequest?.({ session: m.session, bytes: m.ciphertexts.reduce((a, c) => a + c.byteLength, 0), at: performance.now() })
    } catch (err) {
      const e = serializeError(err)
      await fail(stream, '', e.code, e.message)
      return
    }
    stats.bytesIn += request.ciphertexts.reduce((a, c) => a + c.byteLength, 0)
    const m = matrix(request.matrix)
    if (m === undefined) { await fail(stream, request.job, 'UNKNOWN_MATRIX', `this miner has no matrix "${request.matrix}"`); return }
    const plan = planFromData(request.plan) // validated by the decoder already
    if (m.rows !== plan.dOut || m.cols !== plan.dIn) { await fail(stream, request.job, 'BAD_REQUEST', `the plan is for ${plan.dOut}×${plan.dIn}, matrix "${request.matrix}" is ${m.rows}×${m.cols}`); return }
    const q = queues.get(request.session) ?? []
    if (paused) {
      stats.busy++
      await fail(stream, request.job, 'MINER_BUSY', 'this miner is paused; try another miner')
      return
    }
    if (queued >= MINER_QUEUE.maxQueued || q.length >= MINER_QUEUE.maxPerSession) {
      stats.busy++
      await fail(stream, request.job, 'MINER_BUSY', `the miner's queue is full (${queued} jobs); try another miner or later`)
      return
    }
    q.push({ request, stream, plan, matrixId: request.matrix })
    queues.set(request.session, q)
    queued++
    void pump()
  }, { maxInboundStreams: MINER_QUEUE.maxQueued + 8 })

  return {
    stats,
    get queued () { return queued },
    get paused () { return paused },
    set paused (p: boolean) { paused = p },
    async stop () {
      await node.unhandle(LINEAR_PROTOCOL)
    }
  }
}
