/**
 * The body of an HE Web Worker (a module worker): wires {@link createHeService} to the
 * worker's message port, transferring reply buffers. The entry files only choose what the
 * service may start: he.worker.web.ts (users, the widget: SEAL alone) and
 * he-miner.worker.web.ts (donors: SEAL and, when asked, the GPU).
 */
// SEAL's .wasm as Vite serves or emits it (an alias of vite.config.ts: src/node/seal-wasm.ts)
import sealWasm from 'cerberus:seal-wasm?url'
import { loadSeal } from '../core/he/index.ts'
import { createHeService, type HeServiceInit } from './he-service.ts'
import { transferables, type HeReply, type HeRequest } from './he-protocol.ts'
import { webPlanStore } from './plan-store.web.ts'

/** The part of `DedicatedWorkerGlobalScope` used here (the project type-checks with the DOM library). */
interface WorkerScope {
  postMessage: (message: HeReply, transfer: Transferable[]) => void
  addEventListener: (type: 'message', listener: (event: MessageEvent<HeRequest>) => void) => void
}

/** Serve the HE protocol on this worker's port. */
export function serveHeWorker (startGpu?: HeServiceInit['startGpu']): void {
  const scope = self as unknown as WorkerScope
  // A client may name the .wasm (the widget does); otherwise the one this build emitted.
  const defaultWasmUrl = new URL(sealWasm, import.meta.url).href
  const service = createHeService({
    post: (reply) => { scope.postMessage(reply, transferables(reply)) },
    loadSeal: async (wasmUrl) => await loadSeal({ wasmUrl: wasmUrl ?? defaultWasmUrl }),
    planStore: webPlanStore(import.meta.url),
    ...(startGpu === undefined ? {} : { startGpu })
  })
  // One request at a time: SEAL is synchronous, and replies must keep their order.
  let queue = Promise.resolve()
  scope.addEventListener('message', (event) => { queue = queue.then(async () => { await service.handle(event.data) }) })
}
