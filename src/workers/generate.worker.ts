/**
 * Entry of the generation Web Worker (a module worker): wires {@link createGenerateService}
 * to the worker's message port and nothing else.
 */
import { createGenerateService } from './generate-service.ts'
import type { MainToWorker, WorkerToMain } from './generate-protocol.ts'

/**
 * The part of `DedicatedWorkerGlobalScope` this file uses. The project type-checks
 * against the DOM library, where `self` is a Window; the WebWorker library cannot be
 * loaded beside it, so the scope is narrowed by hand.
 */
interface WorkerScope {
  postMessage: (message: WorkerToMain) => void
  addEventListener: (type: 'message', listener: (event: MessageEvent<MainToWorker>) => void) => void
}

const scope = self as unknown as WorkerScope
const service = createGenerateService({ post: (message) => { scope.postMessage(message) } })
scope.addEventListener('message', (event) => { void service.handle(event.data) })
