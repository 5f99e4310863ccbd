/**
 * The miner's multiply-accumulate as an exact int32 ONNX graph (pure TypeScript: it builds
 * graphs; src/gpu runs them on onnxruntime). See docs/10-gpu.md.
 *
 * ```ts
 * import { buildMacGraph, createWasmMac, knownJob, nttPrime } from './src/core/gpu/index.ts'
 * const shape = { q: nttPrime(54, 2048), polyDegree: 2048, chunks: 12, blocks: 24 }
 * const { weights, inputs } = knownJob(shape, 1)
 * const { model } = buildMacGraph(shape, weights, 'Gemm')   // 'MatMul' for CPU EPs
 * // onnxruntime: y = run(model, { x: int32 view of inputs, dims [12, 2, 2048, 2] })
 * // y, as Uint32, equals createWasmMac(shape, weights).mac(inputs) word for word
 * ```
 */
export { buildMacGraph, checkMacShape, maxChunksPerAccumulator, maxChunksPerTile, MAX_TILE_BYTES, MAX_DIMENSION, type MacGraph, type MacShape } from './mac-graph.ts'
export { createWasmMac, type WasmMac } from './wasm-mac.ts'
export { knownJob, residues, type JobFill, type KnownJob } from './known-job.ts'
export { nttPrime, isPrime } from './ntt-prime.ts'
export { checkResidues, limbCount, LIMB_BITS, MIN_PRIME_BITS, MAX_PRIME_BITS } from './limbs.ts'
export { type LinearOp } from './exact-int.ts'
export { GpuUnavailableError, GpuDeviceLostError, GpuOutOfMemoryError, GpuJobError, GpuGraphError } from './errors.ts'
export { createOnnxGraph } from './onnx-graph.ts'
