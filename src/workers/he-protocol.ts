/**
 * Messages between a thread and its HE worker. One worker has one role, fixed at
 * `init`: a **user** worker makes and keeps the secret key (no message carries a key, in
 * either direction); a **miner** worker has no key at all. Buffers are transferred.
 */
import type { PlanData } from '../core/he/index.ts'
import type { SerializedError } from '../core/errors.ts'
import type { Checkpoint } from '../core/model/index.ts'
import type { SqueezeRequestOptions, SqueezedTransfer } from '../core/squeeze/index.ts'

/**
 * Which side of the protocol a worker serves: a user's worker (the keys), a miner's, or a
 * planner — a short-lived worker that only squeezes (no SEAL, no key), so a big model's
 * minutes of planning never queue the user's encryptions behind them.
 */
export type HeRole = 'user' | 'miner' | 'planner'

/** Start SEAL in the worker (a planner's needs none). */
export interface InitRequest { readonly type: 'init', readonly id: number, readonly role: HeRole, readonly wasmUrl?: string }
/** User: encrypt a quantized input vector. */
export interface EncryptRequest { readonly type: 'encrypt', readonly id: number, readonly plan: PlanData, readonly x: Int8Array }
/** User: decrypt a job's result ciphertexts. */
export interface DecryptRequest { readonly type: 'decrypt', readonly id: number, readonly plan: PlanData, readonly results: Uint8Array[] }
/** User: encrypt the `plan.batch` vectors of a batched job (answered by 'encrypted'). */
export interface EncryptBatchRequest { readonly type: 'encrypt-batch', readonly id: number, readonly plan: PlanData, readonly xs: Int8Array[] }
/** User: decrypt a batched job's results, one vector each (answered by 'decrypted-batch'). */
export interface DecryptBatchRequest { readonly type: 'decrypt-batch', readonly id: number, readonly plan: PlanData, readonly results: Uint8Array[] }
/**
 * User: replace every key with fresh ones (a new secret key, new Galois keys on next use),
 * inside the worker — after a rejected result, so that no key meets a rejection twice.
 */
export interface RotateRequest { readonly type: 'rotate', readonly id: number }
/** Miner: encode a matrix (or blocks [first, end) of it) under an id. */
export interface PrepareRequest { readonly type: 'prepare', readonly id: number, readonly matrixId: string, readonly plan: PlanData, readonly w: Int8Array, readonly blocks: readonly [number, number] }
/** User: the Galois key set of a packed plan's parameters (public key material, made with the secret key here). */
export interface GaloisKeysRequest { readonly type: 'galois-keys', readonly id: number, readonly plan: PlanData }
/** Miner: run a job against a prepared matrix (a packed one with the key set loaded as `keyId`). */
export interface ComputeRequest { readonly type: 'compute', readonly id: number, readonly matrixId: string, readonly inputs: Uint8Array[], readonly keyId?: string }
/** Miner: validate and load a user's Galois key set for a packed plan's parameters, under an id. */
export interface LoadKeysRequest { readonly type: 'load-keys', readonly id: number, readonly keyId: string, readonly plan: PlanData, readonly keys: Uint8Array }
/** Miner: forget a key set. */
export interface ReleaseKeysRequest { readonly type: 'release-keys', readonly id: number, readonly keyId: string }
/** Miner: forget a prepared matrix. */
export interface ReleaseRequest { readonly type: 'release', readonly id: number, readonly matrixId: string }
/**
 * Miner: compute on this worker's GPU from now on, if it has a GPU runtime and the GPU
 * passes the start-up self-test (once per worker; asking again answers at once).
 */
export interface UseGpuRequest { readonly type: 'use-gpu', readonly id: number }

/** What a miner worker computes on: a GPU that passed its self-test, or the CPU and why. */
export type MinerDevice =
  | { readonly kind: 'gpu', readonly adapter: string, readonly backend: string }
  | { readonly kind: 'cpu', readonly reason: string }

/** How a miner worker computed one job. */
export interface JobTiming {
  /** Where the job's multiply-accumulate ran. */
  readonly device: 'gpu' | 'cpu'
  /** Time awaiting the GPU's multiply-accumulate (ms; 0 on the CPU). */
  readonly gpuMs: number
  /** Time on the CPU: SEAL's NTTs, key switches and encodings — all of it on the CPU path (ms). */
  readonly cpuMs: number
  /** Why a job meant for the GPU ran on the CPU instead (the GPU failed during it). */
  readonly fallback?: string
  /** What the worker computes on after this job. */
  readonly worker: MinerDevice
}

/**
 * User: keep a matrix of a "local" group (public weights: the classifier the user holds)
 * for {@link LocalMatvecsRequest}s, under an id.
 */
export interface LocalPrepareRequest { readonly type: 'local-prepare', readonly id: number, readonly matrixId: string, readonly rows: number, readonly cols: number, readonly w: Int8Array }
/** User: a kept local matrix times each of `xs`, in the clear (the same integer matvec as the plaintext twin). */
export interface LocalMatvecsRequest { readonly type: 'local-matvecs', readonly id: number, readonly matrixId: string, readonly xs: Int8Array[] }

/**
 * Any role (a planner's one request): squeeze a model (Cerberus Squeezing: seconds per layer of a big model, kept
 * off the caller's thread). The checkpoint is copied, not transferred: the caller keeps it.
 * No key is involved.
 */
export interface SqueezeRequest {
  readonly type: 'squeeze'
  readonly id: number
  readonly ckpt: Checkpoint
  /** Without `memo` (the worker keeps its own, plan-memo.ts). */
  readonly options: SqueezeRequestOptions
  /** The model file's SHA-256: the worker's plan store, if it has one, remembers the plans under it. */
  readonly modelSha256?: string
}

/** What a squeeze found in its worker's plan store: remembered searches before and after (both 0: no store, or no SHA-256). */
export interface PlanMemoUse { readonly before: number, readonly after: number }

/** Either role: the worker's memory (soak tests: leaks of SEAL objects show in its WebAssembly heap). */
export interface MemoryRequest { readonly type: 'memory', readonly id: number }

/** Every request a worker accepts. */
export type HeRequest = InitRequest | EncryptRequest | DecryptRequest | EncryptBatchRequest | DecryptBatchRequest | GaloisKeysRequest | RotateRequest | PrepareRequest | ComputeRequest | ReleaseRequest | LoadKeysRequest | ReleaseKeysRequest | MemoryRequest | UseGpuRequest | LocalPrepareRequest | LocalMatvecsRequest | SqueezeRequest

/**
 * A worker's memory in bytes, after a GC when the runtime allows one: its JS heap; SEAL's
 * WebAssembly heap (which never shrinks, so leaked SEAL objects show as growth); and all of
 * its memory outside the JS heap (SEAL's heap, the prepared matrices' kernel memories, buffers).
 */
export interface WorkerMemory { readonly heapUsed: number, readonly wasmBytes: number, readonly external: number }

/** Replies, one per request id. */
export type HeReply =
  | { readonly type: 'ready', readonly id: number, readonly role: HeRole }
  | { readonly type: 'encrypted', readonly id: number, readonly ciphertexts: Uint8Array[] }
  | { readonly type: 'decrypted', readonly id: number, readonly y: Int32Array }
  | { readonly type: 'decrypted-batch', readonly id: number, readonly ys: Int32Array[] }
  | {
    readonly type: 'prepared'
    readonly id: number
    readonly heapBytes: number
    /** Where the matrix's jobs will run, and why not on the GPU when this worker has one (e.g. out of GPU memory). */
    readonly device?: 'gpu' | 'cpu'
    readonly fallback?: string
  }
  | { readonly type: 'computed', readonly id: number, readonly results: Uint8Array[], readonly timing?: JobTiming }
  | { readonly type: 'device', readonly id: number, readonly device: MinerDevice }
  | { readonly type: 'released', readonly id: number }
  | { readonly type: 'galois-keys', readonly id: number, readonly keys: Uint8Array }
  | { readonly type: 'keys-loaded', readonly id: number, readonly heapBytes: number }
  | { readonly type: 'rotated', readonly id: number }
  | { readonly type: 'local-prepared', readonly id: number }
  | { readonly type: 'local-results', readonly id: number, readonly ys: Int32Array[] }
  | ({ readonly type: 'memory', readonly id: number } & WorkerMemory)
  /** The built layout of a squeeze (its matrices' buffers transferred). */
  | { readonly type: 'squeezed', readonly id: number, readonly squeezed: SqueezedTransfer, readonly memo: PlanMemoUse }
  | {
    readonly type: 'error'
    readonly id: number
    readonly error: SerializedError
    /** The worker can no longer be trusted to work (e.g. SEAL ran out of memory): replace it. */
    readonly fatal: boolean
  }

/** The buffers of a message, to transfer rather than copy. */
export function transferables (m: HeRequest | HeReply): ArrayBuffer[] {
  const bufs: ArrayBufferLike[] = []
  switch (m.type) {
    case 'encrypt': bufs.push(m.x.buffer); break
    case 'decrypt': bufs.push(...m.results.map(r => r.buffer)); break
    case 'encrypt-batch': bufs.push(...m.xs.map(x => x.buffer)); break
    case 'decrypt-batch': bufs.push(...m.results.map(r => r.buffer)); break
    case 'decrypted-batch': bufs.push(...m.ys.map(y => y.buffer)); break
    case 'prepare': bufs.push(m.w.buffer); break
    case 'compute': bufs.push(...m.inputs.map(r => r.buffer)); break
    case 'encrypted': bufs.push(...m.ciphertexts.map(r => r.buffer)); break
    case 'decrypted': bufs.push(m.y.buffer); break
    case 'computed': bufs.push(...m.results.map(r => r.buffer)); break
    case 'galois-keys': if ('keys' in m) bufs.push(m.keys.buffer); break
    case 'local-prepare': bufs.push(m.w.buffer); break
    case 'local-matvecs': bufs.push(...m.xs.map(x => x.buffer)); break
    case 'local-results': bufs.push(...m.ys.map(y => y.buffer)); break
    case 'squeezed': for (const [, g] of m.squeezed.groups) for (const w of g.matrices) bufs.push(w.q.buffer, w.scale.buffer); break
    default: break
  }
  // Each buffer once; shared memory cannot be transferred.
  return [...new Set(bufs)].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer)
}
