/**
 * The private inference engine: one forward pass, several linear backends (`w8a8` in the
 * clear, `he` encrypted with an in-process or remote miner), verified results, and
 * Cerberus Squeezing.
 *
 * @example
 * ```ts
 * const sq = squeezeModel(ckpt, { network: NETWORKS.lan })
 * const { session, miner } = localHe(await loadSeal())
 * const engine = privateEngine(sq.params, await heBackend(sq, session, miner))
 * for await (const t of generateAsync(engine, tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: '', steps: 64 })) {
 *   process.stdout.write(t.bytes)
 * }
 * ```
 */
export { emptyStats, fromSync, runForwardAsync, runRoundsAsync, type BackendStats, type LinearBackend } from './backend.ts'
export { privateEngine, generateAsync, type AsyncLogitsEngine, type AsyncGenerateOptions, type GenerationProgress } from './engine.ts'
export { squeezedW8a8Backend, squeezedW8a8Sync, squeezedEngine } from './plain-backend.ts'
export { heBackend, matrixId, HE_BACKEND_LIMITS, KeyChurnError, type HeSession, type JobResult, type MinerLink, type HeBackendOptions } from './he-backend.ts'
export { localHe } from './he-local.ts'
export { KeyRotationError } from './key-rotation.ts'
export { runQuantizedGroup, runQuantizedGroupSync, plainIntMatvec, plainIntMatvecs, type IntMatrix } from './quantized.ts'
export { formatMatrixId, parseMatrixId, type MatrixIdParts } from '../squeeze/matrix-id.ts'
