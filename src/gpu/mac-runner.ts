/**
 * The GPU multiply-accumulate behind one interface, whatever runs it: onnxruntime-web's
 * WebGPU EP in a donor's worker (mac-runner.web.ts), onnxruntime-node's CPU or WebGPU EP
 * in the headless miner and the tests (mac-runner.node.ts). Both give this module an
 * {@link OrtRuntime}; it builds the exact graph (core/gpu/mac-graph.ts), owns the session
 * and turns the runtime's failures into typed errors the donor falls back on.
 *
 * Memory layout — identical to the WebAssembly kernel's, so the miner can hand over its
 * buffers unchanged (u64 residues as little-endian (lo, hi) Uint32 pairs, all < q):
 * - `upload(weights)`: blocks × chunks × N residues, (block, chunk, k) order; a block the
 *   miner skips as all-zero is N zeros here;
 * - `mac(inputs)`: chunks × 2 × N — per chunk the NTT-form c0 then c1: the miner's X region;
 * - result: blocks × 2 × N — per block acc0 then acc1 reduced to [0, q): what
 *   `reduce(acc, out, 2N, …, 8)` writes to the miner's OUT region, for every block.
 *
 * Example (Node, CPU EP):
 *   const gpu = await createGpuMac({ q, polyDegree: 2048, chunks: 12, blocks: 24 })
 *   await gpu.upload(weights)             // once per prepared matrix
 *   const out = await gpu.mac(inputs)     // per job
 */
import { GpuDeviceLostError, GpuJobError, GpuOutOfMemoryError, GpuUnavailableError } from '../core/gpu/index.ts'
import type { LinearOp } from '../core/gpu/index.ts'
import { checkResidues } from '../core/gpu/index.ts'
import { buildMacGraph, checkMacShape, type MacGraph, type MacShape } from '../core/gpu/index.ts'

export type { MacShape } from '../core/gpu/index.ts'

/** Where the graph runs. */
export type GpuBackend = 'webgpu' | 'cpu' | 'wasm'

/** The part of an onnxruntime session the runner uses (web and node share it). */
export interface OrtSessionLike {
  run: (feeds: Record<string, unknown>) => Promise<Record<string, { data: unknown }>>
  release: () => Promise<void>
}

/** What a platform sibling provides: a session factory over one onnxruntime package and EP. */
export interface OrtRuntime {
  readonly backend: GpuBackend
  /** A human name for the device, e.g. "swiftshader (google)" or "cpu". */
  readonly adapter: string
  /** int32 Gemm on WebGPU, int32 MatMul on the CPU EPs (each lacks the other). */
  readonly linearOp: LinearOp
  createSession: (model: Uint8Array) => Promise<OrtSessionLike>
  /** An int32 tensor for `x`. */
  tensor: (data: Int32Array, dims: readonly number[]) => unknown
  /** Resolves with a reason if the device is lost (never resolves otherwise). */
  readonly lost?: Promise<string>
}

/** The GPU multiply-accumulate for one job shape. */
export interface GpuMac {
  readonly shape: MacShape
  readonly backend: GpuBackend
  readonly adapter: string
  /** Bytes the uploaded matrix holds on the device (weight limbs and constants); 0 before upload. */
  readonly heapBytes: number
  /** The graph of the uploaded matrix (tiles, fold rounds, op counts), or undefined. */
  readonly graph: Omit<MacGraph, 'model'> | undefined
  /**
   * Build the graph with these weights and create its session (the weights go to the
   * device once, here).
   * @throws {GpuJobError} for wrong weights; {GpuOutOfMemoryError}, {GpuDeviceLostError}, {GpuUnavailableError}.
   */
  upload: (weights: Uint32Array) => Promise<void>
  /**
   * Σ_c x_c ⊙ w_bc mod q for every block.
   * @throws {GpuJobError} for wrong inputs or no weights; {GpuDeviceLostError} and the others for the device.
   */
  mac: (inputs: Uint32Array) => Promise<Uint32Array>
  /** Release the session (and with it the weights on the device). */
  dispose: () => Promise<void>
}

const OOM = /out of memory|\boom\b|failed to allocate|allocation failed|bad_alloc|exceeds the maximum|too large/i
const LOST = /device (was |is )?lost|devicelost|device removed|context lost/i

/** Map an onnxruntime or WebGPU failure to the typed error the donor falls back on. */
export function classifyGpuError (what: string, err: unknown, lost?: string): Error {
  const msg = err instanceof Error ? err.message : String(err)
  if (lost !== undefined || LOST.test(msg)) return new GpuDeviceLostError(`GPU device lost while ${what}: ${lost ?? msg}`, err)
  if (OOM.test(msg)) return new GpuOutOfMemoryError(`GPU out of memory while ${what}: ${msg}`, err)
  return new GpuUnavailableError(`GPU failed while ${what}: ${msg}`, err)
}

/**
 * A {@link GpuMac} for `shape` over `runtime`.
 * @throws {GpuGraphError} for a shape the graph does not support.
 */
export function createGpuMacWith (runtime: OrtRuntime, shape: MacShape): GpuMac {
  checkMacShape(shape)
  const { q, polyDegree: n, chunks, blocks } = shape
  let session: OrtSessionLike | undefined
  let graph: Omit<MacGraph, 'model'> | undefined
  let lostReason: string | undefined
  let queue: Promise<unknown> = Promise.resolve()
  void runtime.lost?.then(reason => { lostReason = reason })
  // One call at a time: a session runs one job, and upload must not race a job.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn)
    queue = next.catch(() => undefined)
    return next
  }
  const guard = (what: string): void => {
    if (lostReason !== undefined) throw new GpuDeviceLostError(`GPU device lost before ${what}: ${lostReason}`)
  }
  return {
    shape,
    backend: runtime.backend,
    adapter: runtime.adapter,
    get heapBytes () { return graph === undefined ? 0 : graph.weightBytes },
    get graph () { return graph },
    upload: weights => serial(async () => {
      guard('uploading weights')
      const { model, ...info } = buildMacGraph(shape, weights, runtime.linearOp)
      const old = session
      session = undefined
      graph = undefined
      await old?.release()
      try {
        session = await runtime.createSession(model)
      } catch (err) {
        throw classifyGpuError('uploading weights', err, lostReason)
      }
      graph = info
    }),
    mac: inputs => serial(async () => {
      guard('a job')
      if (session === undefined) throw new GpuJobError('no weights uploaded: call upload() before mac()')
      checkResidues(inputs, chunks * 2 * n, q, 'inputs')
      const x = runtime.tensor(new Int32Array(inputs.buffer, inputs.byteOffset, inputs.length), [chunks, 2, n, 2])
      let y: unknown
      try {
        y = (await session.run({ x })).y?.data
      } catch (err) {
        throw classifyGpuError('running a job', err, lostReason)
      }
      if (!(y instanceof Int32Array) || y.length !== blocks * 4 * n) throw new GpuUnavailableError(`the GPU returned ${y instanceof Int32Array ? y.length : typeof y} values, expected ${blocks * 4 * n} int32`)
      return new Uint32Array(y.buffer, y.byteOffset, y.length)
    }),
    dispose: () => serial(async () => {
      const old = session
      session = undefined
      graph = undefined
      await old?.release()
    })
  }
}
