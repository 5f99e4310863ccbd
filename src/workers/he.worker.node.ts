/**
 * Entry of an HE worker thread in Node: wires the HE service to `parentPort`. Its GPU
 * runtime is onnxruntime-node's WebGPU EP, loaded only when a miner asks (`miner --gpu`).
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { parentPort, workerData } from 'node:worker_threads'
import { transferables, type HeRequest } from './he-protocol.ts'
import { createHeService } from './he-service.ts'
import type { NodeHeWorkerOptions } from './he-port.node.ts'
import { dirPlanStore } from './plan-store.node.ts'
import { wasmMemoryBytes, watchWasmMemories } from './wasm-memories.ts'

const port = parentPort
if (port === null) throw new Error('he.worker.node.ts must run as a worker thread')
let gc: (() => void) | undefined
/** A full GC before a memory report (V8 allows exposing it at run time), so garbage is not counted. */
const collect = (): void => {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
  }
  gc()
}
watchWasmMemories() // before SEAL is loaded (at the first request)
const service = createHeService({
  post: (reply) => { port.postMessage(reply, transferables(reply)) },
  // In a worker thread, memoryUsage() is this thread's isolate's.
  memory: () => {
    collect()
    const m = process.memoryUsage()
    return { heapUsed: m.heapUsed, wasmBytes: wasmMemoryBytes(), external: m.external }
  },
  ...(typeof (workerData as NodeHeWorkerOptions | undefined)?.planCache === 'string' ? { planStore: dirPlanStore((workerData as { planCache: string }).planCache) } : {}),
  startGpu: async () => await (await import('../gpu/mac-runner.node.ts')).startNodeGpuMacEngine({ ep: 'webgpu' })
})
let queue = Promise.resolve()
port.on('message', (m: HeRequest) => { queue = queue.then(async () => { await service.handle(m) }) })
