/**
 * Entry of the HE Web Worker (a module worker): wires {@link createHeService} to the
 * worker's message port, transferring reply buffers, and nothing else.
 */
// SEAL's .wasm as Vite serves or emits it (an alias of vite.config.ts: src/node/seal-wasm.ts)
import sealWasm from 'cerberus:seal-wasm?url'
import { loadSeal } from '../core/he/index.ts'
import { createHeService } from './he-service.ts'
import { transferables, type HeReply, type HeRequest } from './he-protocol.ts'

/** The part of `DedicatedWorkerGlobalScope` used here (the project type-checks with the DOM library). */
interface WorkerScope {
  postMessage: (message: HeReply, transfer: Transferable[]) => void
  addEventListener: (type: 'message', listener: (event: MessageEvent<HeRequest>) => void) => void
}

const scope = self as unknown as WorkerScope
// A client may name the .wasm (the widget does); otherwise the one this build emitted.
const defaultWasmUrl = new URL(sealWasm, import.meta.url).href
const service = createHeService({
  post: (reply) => { scope.postMessage(reply, transferables(reply)) },
  loadSeal: async (wasmUrl) => await loadSeal({ wasmUrl: wasmUrl ?? defaultWasmUrl })
})
// One request at a time: SEAL is synchronous, and replies must keep their order.
let queue = Promise.resolve()
scope.addEventListener('message', (event) => { queue = queue.then(async () => { await service.handle(event.data) }) })
