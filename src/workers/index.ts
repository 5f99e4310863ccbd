/**
 * HE workers: SEAL off the calling thread, behind one typed protocol. A **user** worker
 * makes and keeps the secret key (no message carries a key); a **miner** worker has no key
 * at all. Workers that hang, crash or hit a fatal SEAL error are replaced, with typed
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
 * ```
 */
export { createHeMinerClient, createHeUserClient, type HeClientOptions, type HeMinerClient, type HePort, type HePortFactory, type HeUserClient } from './he-client.ts'
export { createMinerPool, type MinerPool } from './he-pool.ts'
export { HeKeysRotatedError, HeWorkerTimeoutError, WorkerCrashedError, WorkerProtocolError } from './errors.ts'
