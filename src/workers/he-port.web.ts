/**
 * Browser side: an HE worker as a module Web Worker.
 */
import type { HePort } from './he-client.ts'
import type { HeReply } from './he-protocol.ts'
import { serializeError } from '../core/errors.ts'
import { WorkerCrashedError } from './errors.ts'

/** Start a Web Worker running `he.worker.web.ts` (SEAL only: users, the widget). */
export function spawnWebHeWorker (): HePort {
  return webWorkerHePort(new Worker(new URL('./he.worker.web.ts', import.meta.url), { type: 'module', name: 'cerberus-he' }))
}

/**
 * The {@link HePort} of a Web Worker already running `he.worker.web.ts` (or `he-miner.worker.web.ts`), however it was
 * started (the widget starts it through a same-origin bootstrap: src/widget/he-worker.ts).
 */
export function webWorkerHePort (worker: Worker): HePort {
  return {
    send: (message, transfer) => { worker.postMessage(message, transfer) },
    connect (onReply, onCrash) {
      worker.addEventListener('message', (event: MessageEvent<HeReply>) => { onReply(event.data) })
      worker.addEventListener('error', (event) => {
        event.preventDefault()
        onCrash(serializeError(new WorkerCrashedError(event.message === '' ? 'it could not be loaded' : event.message)))
      })
      worker.addEventListener('messageerror', () => { onCrash(serializeError(new WorkerCrashedError('a reply could not be read'))) })
    },
    terminate: () => { worker.terminate() }
  }
}
