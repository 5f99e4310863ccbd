/**
 * The miner service: answers `/cerberus/linear/2.0.0` jobs for one model.
 *
 * The miner loads the model's public weights itself and squeezes them the way users do
 * (fusion and folding are deterministic), so a request names a matrix ("qkv:3:0") and a
 * plan, and carries only ciphertexts. Matrices are encoded for a plan on first use and
 * cached. A user keeps one long-lived stream and pipelines requests on it; each is
 * answered on that stream by its job id, as soon as it is done. Jobs are queued per
 * session and served round-robin (one session cannot starve the others); the queue is
 * bounded (a full queue answers MINER_BUSY at once — the back-pressure users see); jobs of
 * a stream that is gone before they start are dropped.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import { planFromData, type MatvecPlan } from '../core/he/index.ts'
import { LINEAR_PROTOCOL, type LinearMessage, type LinearRequest } from '../core/protocol/index.ts'
import { computeLazy, squeezedMatrix, type SqueezedModel } from '../core/squeeze/index.ts'
import type { QuantizedMatrix } from '../core/model/index.ts'
import { serializeError } from '../core/errors.ts'
import { messageWriter, readMessages, type MessageWriter } from './frames.ts'
import { sessionKeyStore } from './miner-keys.ts'
import { createTamper, type TamperMode } from './miner-tamper.ts'

/** What computes the encrypted products (a miner worker pool, or an in-thread miner). */
export interface MinerCompute {
  /** Encode blocks [first, end) of a matrix (default all) under an id. */
  prepare: (matrixId: string, plan: MatvecPlan, w: Int8Array, blocks?: readonly [number, number]) => Promise<unknown>
  /** A job; a packed one with the key set loaded as `keyId`. */
  compute: (matrixId: string, inputs: Uint8Array[], opts?: { keyId?: string }) => Promise<Uint8Array[]>
  /** Validate and load a user's Galois key set for `plan`'s parameters (packed plans). @throws for keys that are not valid for them. */
  loadKeys?: (keyId: string, plan: MatvecPlan, keys: Uint8Array) => Promise<unknown>
  releaseKeys?: (keyId: string) => Promise<void>
  /** Drop an encoding made by `prepare` (its memory is freed). */
  release?: (matrixId: string) => Promise<void>
  /** Jobs it can compute at once (a pool of workers; default 1). */
  readonly parallel?: number
}

/** Bounds of the job queue, and why. */
export const MINER_QUEUE = Object.freeze({
  /** Jobs waiting in total: ~3 tokens of a 5-layer model; more only adds latency. */
  maxQueued: 64,
  /** Jobs waiting per session: one token's worth of layers in flight. */
  maxPerSession: 24,
  /** How long a frame that has begun may take to arrive in full (a peer dribbling bytes holds a buffer). */
  readTimeoutMs: 30_000,
  /** A stream with nothing pending and no frame for this long is closed (the user reopens one when she needs it). */
  idleTimeoutMs: 10 * 60_000,
  /** Streams at once: one per user and a few reopened ones; each holds at most one bounded frame. */
  maxStreams: 128
})

/**
 * Encodings held per matrix, and why: each (plan, block range) a user's job names is
 * encoded once and kept — an honest session needs one to four per matrix (the one-vector
 * plan and the batched prefill plan, each whole or a split part), more users on other
 * network profiles a few more. Past this many the least recently used one that no job is
 * using is released (and encoded again if it is asked for), so a user who sends a new plan
 * per job costs time, not memory. Memory then stays below this many × the largest encoding
 * of each matrix (a prefill encoding: ≈ 8·v bytes per weight).
 */
export const MINER_ENCODINGS = Object.freeze({ perMatrix: 8 })

/** Counters of a running service. */
export interface MinerServiceStats {
  /** Key sets received, and sessions whose keys were evicted. */
  keySets: number
  keysEvicted: number
  /** Streams users opened (one per user–miner pair while it lives). */
  streams: number
  /** Encodings released to keep within {@link MINER_ENCODINGS}.perMatrix. */
  encodingsEvicted: number
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

/** One user stream: its writer, its jobs not yet answered, and whether the user closed her half. */
interface Conn {
  readonly stream: Stream
  readonly writer: MessageWriter
  pending: number
  ended: boolean
}

/** Whether the user can still receive an answer on `conn` (her tab is not gone). */
function alive (conn: Conn): boolean {
  const s = conn.stream
  return s.status !== 'aborted' && s.status !== 'reset' && s.writeStatus !== 'closed' && s.writeStatus !== 'closing'
}

interface Job {
  readonly request: LinearRequest
  readonly conn: Conn
  readonly plan: MatvecPlan
  readonly matrixId: string
}

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
  /** Sessions whose Galois keys are held at once (default {@link MINER_KEYS}.maxSessions; tests lower it). */
  readonly maxKeySessions?: number
  /** Sees every request as it arrives (what a miner can learn of its users: tests of validators' disguise). */
  readonly onRequest?: (r: ObservedRequest) => void
  /** Encodings held per matrix (default {@link MINER_ENCODINGS}.perMatrix; tests lower it). */
  readonly maxEncodingsPerMatrix?: number
}

/** Serve `model`'s matrices on `node`. */
export async function startMinerService (node: Libp2p, model: SqueezedModel, compute: MinerCompute, opts: MinerServiceOptions = {}): Promise<MinerService> {
  const tamper = createTamper(opts.tamper)
  const stats: MinerServiceStats = { keySets: 0, keysEvicted: 0, streams: 0, encodingsEvicted: 0, jobs: 0, failed: 0, busy: 0, dropped: 0, bytesIn: 0, bytesOut: 0, computeMs: 0 }
  const queues = new Map<string, Job[]>() // per session, in arrival order
  let queued = 0
  let running = false
  let paused = false
  const prepared = new Map<string, Promise<unknown>>()
  const keys = sessionKeyStore(compute, { maxSessions: opts.maxKeySessions, counted: e => { if (e === 'taken') stats.keySets++; else stats.keysEvicted++ } })
  // Per matrix, its encodings' keys by last use, and the jobs using each (never released under one).
  const encodings = (() => {
    const byMatrix = new Map<string, Map<string, { lastUse: number, jobs: number }>>()
    let tick = 0
    const max = Math.max(1, opts.maxEncodingsPerMatrix ?? MINER_ENCODINGS.perMatrix)
    return {
      use (matrixId: string, key: string): { done: () => void } {
        const held = byMatrix.get(matrixId) ?? new Map<string, { lastUse: number, jobs: number }>()
        byMatrix.set(matrixId, held)
        if (!held.has(key)) {
          const idle = [...held].filter(([k, e]) => e.jobs === 0 && k !== key).sort((a, b) => a[1].lastUse - b[1].lastUse)
          for (let n = held.size - max + 1, i = 0; n > 0 && i < idle.length; n--, i++) {
            const [old] = idle[i]
            held.delete(old)
            const was = prepared.get(old)
            prepared.delete(old)
            stats.encodingsEvicted++
            void was?.then(async () => await compute.release?.(old)).catch(() => {})
          }
        }
        const e = held.get(key) ?? { lastUse: 0, jobs: 0 }
        e.lastUse = ++tick
        e.jobs++
        held.set(key, e)
        return { done: () => { e.jobs-- } }
      }
    }
  })()
  // "qkv:3:0", "o-up:2:0" → the squeezed matrix (either round layout)
  const matrix = (id: string): QuantizedMatrix | undefined => squeezedMatrix(model, id)

  /** Send `m` on `conn`; once the user has closed her half and nothing is pending, close ours. */
  const answer = (conn: Conn, m: LinearMessage, settles: boolean): void => {
    void conn.writer.write(m).catch(() => {}).finally(() => {
      if (settles) conn.pending--
      if (conn.ended && conn.pending === 0) void conn.stream.close().catch(() => {})
    })
  }

  /** Answer `job` with a typed error on its stream (the stream goes on). */
  const fail = (conn: Conn, job: string, code: string, message: string, settles = false): void => {
    stats.failed++
    answer(conn, { type: 'error', job, code, message }, settles)
  }

  async function serve (j: Job): Promise<void> {
    if (!alive(j.conn)) { stats.dropped++; j.conn.pending--; return } // the user is gone
    const blocks = j.request.blocks ?? [0, j.plan.split.blocks] as const
    // Everything the encoding depends on: the plan's wire form (scheme, batch, packed layout) and the range.
    const key = `${j.matrixId}|${JSON.stringify(j.request.plan)}|${blocks[0]}-${blocks[1]}`
    const held = encodings.use(j.matrixId, key)
    try {
      let ready = prepared.get(key)
      if (ready === undefined) {
        // A fused product is made on first use, in slices that let the event loop run (a
        // donor's tab keeps its page and its WebRTC streams alive meanwhile).
        const m = matrix(j.matrixId) as QuantizedMatrix
        ready = computeLazy(m).then(async () => await compute.prepare(key, j.plan, m.q, blocks))
        prepared.set(key, ready)
        ready.catch(() => prepared.delete(key))
      }
      await ready
      const keyId = j.plan.scheme === 'packed' ? await keys.keyIdFor(j.request.session, j.plan) : undefined
      const t0 = performance.now()
      const honest = await compute.compute(key, j.request.ciphertexts, keyId === undefined ? undefined : { keyId })
      stats.computeMs += performance.now() - t0
      const results = tamper(j.request.session, key, honest)
      stats.jobs++
      stats.bytesOut += results.reduce((a, r) => a + r.byteLength, 0)
      // Not awaited: the next job computes while this result goes out (the writer keeps order).
      answer(j.conn, { type: 'result', job: j.request.job, ciphertexts: results }, true)
    } catch (err) {
      const e = serializeError(err)
      fail(j.conn, j.request.job, e.code, e.message, true)
    } finally {
      held.done()
    }
  }

  // Round-robin over sessions, up to `compute.parallel` jobs at a time (a pool runs packed
  // jobs one per worker; a coefficient job already uses every worker).
  async function pump (): Promise<void> {
    if (running) return
    running = true
    const inFlight = new Set<Promise<void>>()
    try {
      while (queued > 0) {
        for (const [session, q] of [...queues]) {
          const j = q.shift()
          if (q.length === 0) queues.delete(session)
          if (j === undefined) continue
          queued--
          const width = j.plan.scheme === 'packed' ? Math.max(1, compute.parallel ?? 1) : 1
          while (inFlight.size >= width) await Promise.race(inFlight)
          const p: Promise<void> = serve(j).finally(() => { inFlight.delete(p) })
          inFlight.add(p)
          if (width === 1) await p
        }
      }
      await Promise.all(inFlight)
    } finally {
      running = false
      if (queued > 0) void pump()
    }
  }

  /** Take one request from a stream: validate it against the model, then queue it or refuse it. */
  const admit = (conn: Conn, m: LinearMessage): void => {
    if (m.type === 'keys') { keys.take(m.session, m.keys); return }
    if (m.type !== 'request') { fail(conn, m.job, 'BAD_REQUEST', `expected a request, got a ${m.type}`); return }
    const request = m
    opts.onRequest?.({ session: m.session, bytes: m.ciphertexts.reduce((n, c) => n + c.byteLength, 0), at: performance.now() })
    stats.bytesIn += request.ciphertexts.reduce((a, c) => a + c.byteLength, 0)
    const w = matrix(request.matrix)
    if (w === undefined) { fail(conn, request.job, 'UNKNOWN_MATRIX', `this miner has no matrix "${request.matrix}"`); return }
    const plan = planFromData(request.plan) // validated by the decoder already
    if (w.rows !== plan.dOut || w.cols !== plan.dIn) { fail(conn, request.job, 'BAD_REQUEST', `the plan is for ${plan.dOut}×${plan.dIn}, matrix "${request.matrix}" is ${w.rows}×${w.cols}`); return }
    const q = queues.get(request.session) ?? []
    if (paused) {
      stats.busy++
      fail(conn, request.job, 'MINER_BUSY', 'this miner is paused; try another miner')
      return
    }
    if (queued >= MINER_QUEUE.maxQueued || q.length >= MINER_QUEUE.maxPerSession) {
      stats.busy++
      fail(conn, request.job, 'MINER_BUSY', `the miner's queue is full (${queued} jobs); try another miner or later`)
      return
    }
    q.push({ request, conn, plan, matrixId: request.matrix })
    conn.pending++
    queues.set(request.session, q)
    queued++
    void pump()
  }

  /** Serve one user stream until it ends, is idle too long, or breaks the framing. */
  const serveStream = async (stream: Stream): Promise<void> => {
    stats.streams++
    const conn: Conn = { stream, writer: messageWriter(stream), pending: 0, ended: false }
    let timer: ReturnType<typeof setTimeout> | undefined
    const arm = (partial: number): void => {
      clearTimeout(timer)
      const ms = partial > 0 ? MINER_QUEUE.readTimeoutMs : MINER_QUEUE.idleTimeoutMs
      timer = setTimeout(() => {
        if (partial === 0 && conn.pending > 0) { arm(0); return } // waiting for our answers is not idling
        stream.abort(new Error(partial > 0 ? 'a frame took too long to arrive' : 'the stream was idle too long'))
      }, ms)
    }
    arm(0)
    try {
      for await (const item of readMessages(stream, arm)) {
        if (item.ok) { admit(conn, item.message); continue }
        // A body that does not decode: say so and end the stream (a byte stream cannot be
        // trusted to resynchronise); the jobs already taken are still answered.
        conn.ended = true
        fail(conn, '', item.error.code, item.error.message)
        return
      }
      conn.ended = true // the user closed her half: answer what is queued, then close ours
      if (conn.pending === 0) await stream.close().catch(() => {})
    } catch (err) {
      // a broken frame header, a reset or a timeout: nothing more can be read from this stream
      conn.ended = true
      const e = serializeError(err)
      if (e.code === 'PROTOCOL') fail(conn, '', e.code, e.message)
      else stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      clearTimeout(timer)
    }
  }

  await node.handle(LINEAR_PROTOCOL, (stream) => { void serveStream(stream) }, { maxInboundStreams: MINER_QUEUE.maxStreams })

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
