/**
 * HE workers: SEAL off the calling thread, behind one typed protocol. A **user** worker
 * makes and keeps the secret key (no message carries a key); a **miner** worker has no key
 * at all, and may compute its multiply-accumulates on a GPU (miner-gpu.ts; the kernel
 * stays its fallback). Workers that hang, crash or hit a fatal SEAL error are replaced, with typed
 * errors for what was pending. The ports that start a worker are platform siblings,
 * imported directly where the platform is known: `he-port.web.ts` (module Web Workers),
 * `he-port.node.ts` (worker_threads), `he-port.in-thread.ts` (tests and tools).
 *
 * @example
 * ```ts
 * import { createHeUserClient, createMinerPool } from '../workers/index.ts'
 * import { spawnNodeHeWorker } from '../workers/he-port.node.ts'
 * const user = createHeUserClient({ spawn: () => spawnNodeHeWorker() })   // an engine HeSession
 * const pool = createMinerPool({ spawn: () => spawnNodeHeWorker(), size: 2 }) // a miner service's compute
 * // On the GPU where a worker has one that passes its self-test (else the CPU, saying why):
 * const gpuPool = createMinerPool({ spawn: spawnWebMinerWorker, gpu: true, onJob: t => show(t.gpuMs, t.cpuMs) })
 * const { kind, reason } = await gpuPool.device()     // 'gpu', "webgpu: …" | 'cpu', "WebGPU not available: …"
 * ```
 */
export { createHeMinerClient, createHeUserClient, GPU_START_TIMEOUT_MS, squeezeInWorker, SQUEEZE_TIMEOUT_MS, type HeClientOptions, type HeMinerClient, type HeMinerClientOptions, type HePort, type HePortFactory, type HeUserClient } from './he-client.ts'
export { createMinerPool, poolDevice, type MinerPool, type MinerPoolOptions, type PoolDevice, type PoolJobTiming } from './he-pool.ts'
export type { JobTiming, MinerDevice } from './he-protocol.ts'
export { GPU_NOT_REQUESTED, isGpuFailure, type GpuStarter } from './miner-gpu.ts'
export { HeKeysRotatedError, HeWorkerTimeoutError, WorkerCrashedError, WorkerProtocolError } from './errors.ts'
