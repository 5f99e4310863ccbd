/**
 * The calling side of an HE worker: one typed interface for the user and the miner
 * roles, over a real worker (Web Worker or worker_threads) or in-thread.
 *
 * A request that outlives its timeout, or a worker that crashes or reports a fatal error
 * (SEAL out of memory), gets the worker terminated and replaced; the pending requests fail
 * with a typed error instead of hanging the app. A miner replays its prepared matrices on
 * the new worker; a user's new worker has new keys, so results of earlier encryptions
 * are refused with {@link HeKeysRotatedError} — as they are after `rotate`, which makes
 * fresh keys inside the same worker (the secret never leaves it).
 */
import type { HeSession, IntMatrix } from '../core/engine/index.ts'
import { planToData, type MatvecPlan } from '../core/he/index.ts'
import type { Checkpoint } from '../core/model/index.ts'
import { squeezedFromTransfer, type SqueezedModel, type SqueezeRequestOptions } from '../core/squeeze/index.ts'
import { HeKeysRotatedError, HeWorkerTimeoutError, WorkerCrashedError } from './errors.ts'
import { transferables, type HeReply, type HeRequest, type HeRole, type JobTiming, type MinerDevice, type WorkerMemory } from './he-protocol.ts'
import { GPU_NOT_REQUESTED } from './miner-gpu.ts'
import { RemoteError, serializeError, type SerializedError } from '../core/errors.ts'

/** A channel to one HE worker. */
export interface HePort {
  /** Post a request, transferring the listed buffers. */
  send: (message: HeRequest, transfer: ArrayBuffer[]) => void
  /** Register the receivers of replies and of a crash (called once per port). */
  connect: (onReply: (reply: HeReply) => void, onCrash: (error: SerializedError) => void) => void
  /** Stop the worker for good. */
  terminate: () => void
}

/** Makes a fresh worker (called again after a crash or a timeout). */
export type HePortFactory = () => HePort

/** Options shared by the clients. */
export interface HeClientOptions {
  /**
   * Makes the worker: a Web Worker (he-port.web.ts), a worker thread (he-port.node.ts), or
   * in-thread (in-thread-port.ts, for tests and tools). Required, so a page bundle that
   * uses workers does not carry SEAL's JavaScript for an in-thread default it never runs.
   */
  readonly spawn: HePortFactory
  /** URL of SEAL's .wasm, for bundled browser builds. */
  readonly wasmUrl?: string
  /** Per-request timeout in ms before the worker is replaced (default 60 s). */
  readonly timeoutMs?: number
}

interface Pending {
  readonly resolve: (r: HeReply) => void
  readonly reject: (e: Error) => void
  readonly timer: ReturnType<typeof setTimeout> | undefined
  readonly what: string
}

/** The shared machinery: one worker, requests matched to replies, replacement on failure. */
class Connection {
  private port: HePort | undefined
  private ready: Promise<void> | undefined
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  /** Incremented each time a worker is replaced. */
  epoch = 0
  private closed = false
  /** Runs on a replacement worker before its first request (a miner replays its matrices). */
  onRestart: (() => Promise<void>) | undefined

  private readonly role: HeRole
  private readonly opts: HeClientOptions

  constructor (role: HeRole, opts: HeClientOptions) {
    this.role = role
    this.opts = opts
  }

  private start (): Promise<void> {
    const port = this.opts.spawn()
    this.port = port
    port.connect(r => { this.settle(r) }, e => { this.fail(new WorkerCrashedError(`the HE ${this.role} worker stopped: ${e.message}`)) })
    const replay = this.epoch > 0 ? this.onRestart : undefined
    this.ready = this.raw({ type: 'init', id: 0, role: this.role, wasmUrl: this.opts.wasmUrl }, 'start SEAL')
      .then(async () => { await replay?.() })
    // A failed start is reported to the request that triggered it; the next one starts afresh.
    this.ready.catch(() => { this.ready = undefined })
    return this.ready
  }

  private settle (r: HeReply): void {
    const p = this.pending.get(r.id)
    if (p === undefined) return
    this.pending.delete(r.id)
    if (p.timer !== undefined) clearTimeout(p.timer)
    if (r.type === 'error') {
      p.reject(new RemoteError(r.error))
      if (r.fatal) this.fail(new WorkerCrashedError(`the HE ${this.role} worker hit a fatal error (${r.error.message}) and was replaced`))
    } else p.resolve(r)
  }

  /** Terminate the worker and fail everything pending; the next request starts a new one. */
  private fail (err: Error): void {
    this.port?.terminate()
    this.port = undefined
    this.ready = undefined
    const pending = [...this.pending.values()]
    this.pending.clear()
    for (const p of pending) {
      if (p.timer !== undefined) clearTimeout(p.timer)
      p.reject(err)
    }
    // The replacement starts with the next request (not now: a worker that cannot start
    // must not be respawned in a loop).
    if (!this.closed) this.epoch++
  }

  private raw (m: HeRequest, what: string, timeoutMs = this.opts.timeoutMs ?? 60_000): Promise<HeReply> {
    const id = m.type === 'init' ? 0 : m.id
    return new Promise<HeReply>((resolve, reject) => {
      const timer = timeoutMs === Infinity
        ? undefined
        : setTimeout(() => { this.fail(new HeWorkerTimeoutError(`the HE ${this.role} worker took more than ${timeoutMs} ms to ${what}; it was terminated and replaced`)) }, timeoutMs)
      this.pending.set(id, { resolve, reject, timer, what })
      try {
        this.port?.send(m, transferables(m))
      } catch (err) {
        this.pending.delete(id)
        if (timer !== undefined) clearTimeout(timer)
        reject(new RemoteError(serializeError(err)))
      }
    })
  }

  async request<T extends HeReply['type']> (make: (id: number) => HeRequest, expect: T, what: string, timeoutMs?: number): Promise<Extract<HeReply, { type: T }>> {
    if (this.closed) throw new WorkerCrashedError(`the HE ${this.role} client is closed`)
    await (this.ready ?? this.start())
    return await this.direct(make, expect, what, timeoutMs)
  }

  /** Send on the current worker without waiting for it to be ready (used by the replay). */
  async direct<T extends HeReply['type']> (make: (id: number) => HeRequest, expect: T, what: string, timeoutMs?: number): Promise<Extract<HeReply, { type: T }>> {
    const reply = await this.raw(make(this.nextId++), what, timeoutMs)
    if (reply.type !== expect) throw new WorkerCrashedError(`the HE ${this.role} worker answered "${reply.type}" to a request to ${what}`)
    return reply as Extract<HeReply, { type: T }>
  }

  /** The keys are about to be replaced: work under the old ones is refused from now on. */
  nextEpoch (): void {
    this.epoch++
  }

  close (): void {
    this.closed = true
    this.fail(new WorkerCrashedError(`the HE ${this.role} client was closed`))
  }
}

/**
 * The user's HE worker, holding the keys: the engine's {@link HeSession} (encrypt returns
 * the key `epoch`; decrypt refuses results of another epoch with {@link HeKeysRotatedError}
 * after the worker was replaced or the keys rotated), `rotate`, and `close`.
 */
export type HeUserClient = HeSession & {
  readonly encryptBatch: NonNullable<HeSession['encryptBatch']>
  readonly decryptBatch: NonNullable<HeSession['decryptBatch']>
  readonly localMatvecs: NonNullable<HeSession['localMatvecs']>
  readonly galoisKeys: (plan: MatvecPlan) => Promise<Uint8Array>
  readonly rotate: () => Promise<void>
  readonly close: () => void
}

/**
 * How long a squeeze may take in its worker before it is given up (and the worker stopped):
 * ~10 s per 768-dim layer on this project's 2-core machine, so a 12-layer model takes ~2 min.
 */
export const SQUEEZE_TIMEOUT_MS = 20 * 60_000

/**
 * Squeeze `ckpt` in a worker of its own — a planner, started for this squeeze and stopped
 * after it (no SEAL, no key): the calling thread stays free (a 768-dim layer's plans take
 * seconds) and so does the user's HE worker, which goes on encrypting for the model in use.
 * The result is rebuilt here, the forward pass's parameters taken from `ckpt`, with the built
 * layout only (no `otherLayout`). With the model file's SHA-256, a worker with a plan store
 * remembers the plan searches under it, and the next squeeze of that model with those
 * options skips them.
 */
export async function squeezeInWorker (opts: HeClientOptions, ckpt: Checkpoint, options: SqueezeRequestOptions, modelSha256?: string): Promise<SqueezedModel> {
  const c = new Connection('planner', opts)
  try {
    const r = await c.request(id => ({ type: 'squeeze', id, ckpt, options, ...(modelSha256 === undefined ? {} : { modelSha256 }) }), 'squeezed', 'squeeze the model', SQUEEZE_TIMEOUT_MS)
    return squeezedFromTransfer(ckpt, r.squeezed)
  } finally {
    c.close()
  }
}

/** Start a user HE client. `x` and `results` are transferred (detached afterwards). */
export function createHeUserClient (opts: HeClientOptions): HeUserClient {
  const c = new Connection('user', opts)
  // Local matrices sent to the worker (public weights), sent again to a replacement worker.
  const locals = new Map<string, IntMatrix>()
  const keep = (matrixId: string, m: IntMatrix) => (id: number): HeRequest => ({ type: 'local-prepare', id, matrixId, rows: m.rows, cols: m.cols, w: m.q.slice() })
  c.onRestart = async () => {
    for (const [matrixId, m] of locals) await c.direct(keep(matrixId, m), 'local-prepared', `keep local matrix ${matrixId}`)
  }
  return {
    async localMatvecs (matrixId, m, xqs) {
      const held = locals.get(matrixId)
      if (held === undefined || held.q !== m.q) {
        locals.set(matrixId, m)
        await c.request(keep(matrixId, m), 'local-prepared', `keep local matrix ${matrixId}`)
      }
      const ask = async (): Promise<Int32Array[]> => (await c.request(id => ({ type: 'local-matvecs', id, matrixId, xs: xqs.map(x => x.slice()) }), 'local-results', `multiply local matrix ${matrixId}`)).ys
      try {
        return await ask()
      } catch (err) {
        // the worker was replaced under the request: its replacement holds the matrices again
        if (!(err instanceof WorkerCrashedError || err instanceof HeWorkerTimeoutError)) throw err
        return await ask()
      }
    },
    async encrypt (plan, x, timeoutMs?: number) {
      const epoch = c.epoch
      const r = await c.request(id => ({ type: 'encrypt', id, plan: planToData(plan), x }), 'encrypted', 'encrypt', timeoutMs)
      if (c.epoch !== epoch) throw new HeKeysRotatedError('the HE user\'s keys were replaced (rotated, or a new worker) while encrypting; encrypt again')
      return { ciphertexts: r.ciphertexts, epoch }
    },
    async encryptBatch (plan, xs, timeoutMs?: number) {
      const epoch = c.epoch
      const r = await c.request(id => ({ type: 'encrypt-batch', id, plan: planToData(plan), xs }), 'encrypted', 'encrypt a batch', timeoutMs)
      if (c.epoch !== epoch) throw new HeKeysRotatedError('the HE user\'s keys were replaced (rotated, or a new worker) while encrypting; encrypt again')
      return { ciphertexts: r.ciphertexts, epoch }
    },
    async galoisKeys (plan) {
      const epoch = c.epoch
      const { keys } = await c.request(id => ({ type: 'galois-keys', id, plan: planToData(plan) }), 'galois-keys', 'make Galois keys')
      if (c.epoch !== epoch) throw new HeKeysRotatedError('the HE user\'s keys were replaced while making Galois keys; ask for them again')
      return keys
    },
    async rotate () {
      // The epoch moves now, before the request is sent: an encryption or key set still on its
      // way back was made with the old keys and is refused (requests run in order in the worker).
      c.nextEpoch()
      await c.request(id => ({ type: 'rotate', id }), 'rotated', 'make fresh keys')
    },
    async decrypt (plan, results, epoch, timeoutMs?: number) {
      if (epoch !== c.epoch) throw new HeKeysRotatedError(`these results were encrypted under the keys of epoch ${epoch}; the HE user now has the keys of epoch ${c.epoch} — encrypt again`)
      return (await c.request(id => ({ type: 'decrypt', id, plan: planToData(plan), results }), 'decrypted', 'decrypt', timeoutMs)).y
    },
    async decryptBatch (plan, results, epoch, timeoutMs?: number) {
      if (epoch !== c.epoch) throw new HeKeysRotatedError(`these results were encrypted under the keys of epoch ${epoch}; the HE user now has the keys of epoch ${c.epoch} — encrypt again`)
      return (await c.request(id => ({ type: 'decrypt-batch', id, plan: planToData(plan), results }), 'decrypted-batch', 'decrypt a batch', timeoutMs)).ys
    },
    close: () => { c.close() }
  }
}

/** A miner HE worker. */
export interface HeMinerClient {
  /**
   * Encode a matrix (blocks [first, end), default all). `w` is copied, so it can be replayed.
   * A worker with a GPU also uploads its weights there: `device` says where its jobs run, and
   * `fallback` why not on the GPU (e.g. out of GPU memory).
   */
  prepare: (matrixId: string, plan: MatvecPlan, w: Int8Array, blocks?: readonly [number, number]) => Promise<{ heapBytes: number, device?: 'gpu' | 'cpu', fallback?: string }>
  /** Compute a job (a packed one with the key set loaded as `keyId`); the inputs are transferred. */
  compute: (matrixId: string, inputs: Uint8Array[], opts?: { timeoutMs?: number, keyId?: string }) => Promise<Uint8Array[]>
  /** {@link HeMinerClient.compute}, and how the worker computed it (GPU or CPU, the time on each, a fallback's reason). */
  computeTimed: (matrixId: string, inputs: Uint8Array[], opts?: { timeoutMs?: number, keyId?: string }) => Promise<{ results: Uint8Array[], timing: JobTiming }>
  release: (matrixId: string) => Promise<void>
  /** Validate and load a user's Galois key set under `keyId` (copied, so it can be replayed). @throws the HE layer's typed error for bad keys. */
  loadKeys: (keyId: string, plan: MatvecPlan, keys: Uint8Array) => Promise<{ heapBytes: number }>
  releaseKeys: (keyId: string) => Promise<void>
  /** The worker's memory (soak benchmarks). @throws when its platform cannot report it. */
  memory: () => Promise<WorkerMemory>
  /**
   * What the worker computes on. With `gpu`, the first call starts the worker and its GPU
   * (the self-test); later ones say what the last reply said (a lost device turns it to the CPU).
   */
  device: () => Promise<MinerDevice>
  close: () => void
}

/** Options of a miner client. */
export interface HeMinerClientOptions extends HeClientOptions {
  /** Compute on the worker's GPU when it has one that passes the self-test (default false: the CPU). */
  readonly gpu?: boolean
}

/**
 * How long a worker may take to start its GPU: loading onnxruntime, creating the device,
 * compiling the self-test's shaders and running it — ~10 s on a software adapter
 * (SwiftShader) on two cores, under a second on a GPU.
 */
export const GPU_START_TIMEOUT_MS = 180_000

/** Start a miner HE client. */
export function createHeMinerClient (opts: HeMinerClientOptions): HeMinerClient {
  const c = new Connection('miner', opts)
  const prepared = new Map<string, { plan: MatvecPlan, w: Int8Array, blocks: readonly [number, number] }>()
  type Entry = { plan: MatvecPlan, w: Int8Array, blocks: readonly [number, number] }
  const message = (matrixId: string, p: Entry) => (id: number): HeRequest => ({ type: 'prepare', id, matrixId, plan: planToData(p.plan), w: p.w.slice(), blocks: p.blocks })
  const keySets = new Map<string, { plan: MatvecPlan, keys: Uint8Array }>()
  const keysMessage = (keyId: string, k: { plan: MatvecPlan, keys: Uint8Array }) => (id: number): HeRequest => ({ type: 'load-keys', id, keyId, plan: planToData(k.plan), keys: k.keys.slice() })
  let device: MinerDevice = { kind: 'cpu', reason: GPU_NOT_REQUESTED }
  // The GPU is asked for once per worker: here for the first, in onRestart for replacements.
  let gpuAsked: Promise<void> | undefined
  const askGpu = async (send: typeof c.direct): Promise<void> => {
    device = (await send(id => ({ type: 'use-gpu', id }), 'device', 'start its GPU (self-test)', GPU_START_TIMEOUT_MS)).device
  }
  const gpuFirst = async (): Promise<void> => {
    if (opts.gpu !== true) return
    gpuAsked ??= askGpu((make, expect, what, t) => c.request(make, expect, what, t)).catch((err: unknown) => { gpuAsked = undefined; throw err })
    await gpuAsked
  }
  // A replacement worker gets its GPU, every matrix and key set again before its first job.
  c.onRestart = async () => {
    if (opts.gpu === true) await askGpu((make, expect, what, t) => c.direct(make, expect, what, t))
    for (const [id, p] of prepared) await c.direct(message(id, p), 'prepared', 'prepare a matrix again')
    for (const [id, k] of keySets) await c.direct(keysMessage(id, k), 'keys-loaded', 'load a key set again')
  }
  const computeTimed: HeMinerClient['computeTimed'] = async (matrixId, inputs, copts = {}) => {
    await gpuFirst()
    const r = await c.request(id => ({ type: 'compute', id, matrixId, inputs, ...(copts.keyId === undefined ? {} : { keyId: copts.keyId }) }), 'computed', 'compute a job', copts.timeoutMs)
    const timing: JobTiming = r.timing ?? { device: 'cpu', gpuMs: 0, cpuMs: 0, worker: device }
    device = timing.worker
    return { results: r.results, timing }
  }
  return {
    async prepare (matrixId, plan, w, blocks) {
      await gpuFirst()
      const entry: Entry = { plan, w: w.slice(), blocks: blocks ?? [0, plan.split.blocks] as const }
      prepared.set(matrixId, entry)
      const { heapBytes, device: on, fallback } = await c.request(message(matrixId, entry), 'prepared', 'prepare a matrix')
      return { heapBytes, ...(on === undefined ? {} : { device: on }), ...(fallback === undefined ? {} : { fallback }) }
    },
    computeTimed,
    async compute (matrixId, inputs, copts) {
      return (await computeTimed(matrixId, inputs, copts)).results
    },
    async loadKeys (keyId, plan, keys) {
      await gpuFirst()
      const entry = { plan, keys: keys.slice() }
      const r = await c.request(keysMessage(keyId, entry), 'keys-loaded', 'load a key set')
      keySets.set(keyId, entry)
      return { heapBytes: r.heapBytes }
    },
    async releaseKeys (keyId) {
      keySets.delete(keyId)
      await c.request(id => ({ type: 'release-keys', id, keyId }), 'released', 'release a key set')
    },
    async release (matrixId) {
      prepared.delete(matrixId)
      await c.request(id => ({ type: 'release', id, matrixId }), 'released', 'release a matrix')
    },
    async memory () {
      const r = await c.request(id => ({ type: 'memory', id }), 'memory', 'report its memory')
      return { heapUsed: r.heapUsed, wasmBytes: r.wasmBytes, external: r.external }
    },
    async device () {
      await gpuFirst()
      return device
    },
    close: () => { c.close() }
  }
}
