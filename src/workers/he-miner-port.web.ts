/**
 * Browser side: a donor's HE miner worker as a module Web Worker. Apart from he-port.web.ts
 * because the widget imports that one: a bundler emits every worker a module names, and
 * this one brings onnxruntime-web.
 */
import type { HePort } from './he-client.ts'
import { webWorkerHePort } from './he-port.web.ts'

/** Start a donor's miner worker, `he-miner.worker.web.ts`: SEAL, and the GPU when a miner client asks for it. */
export function spawnWebMinerWorker (): HePort {
  return webWorkerHePort(new Worker(new URL('./he-miner.worker.web.ts', import.meta.url), { type: 'module', name: 'cerberus-he-miner' }))
}
