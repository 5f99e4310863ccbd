/**
 * Entry of an HE worker thread in Node: wires the HE service to `parentPort`. Its GPU
 * runtime is onnxruntime-node's WebGPU EP, loaded only when a miner asks (`miner --gpu`).
 */
import { parentPort } from 'node:worker_threads'
import { transferables, type HeRequest } from './he-protocol.ts'
import { createHeService } from './he-service.ts'

const port = parentPort
if (port === null) throw new Error('he.worker.node.ts must run as a worker thread')
const service = createHeService({
  post: (reply) => { port.postMessage(reply, transferables(reply)) },
  startGpu: async () => await (await import('../gpu/mac-runner.node.ts')).startNodeGpuMacEngine({ ep: 'webgpu' })
})
let queue = Promise.resolve()
port.on('message', (m: HeRequest) => { queue = queue.then(async () => { await service.handle(m) }) })
