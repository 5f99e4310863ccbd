/**
 * Browser side: an HE worker as a module Web Worker.
 */
import type { HePort } from './he-client.ts'
import type { HeReply } from './he-protocol.ts'
import { serializeError } from './remote-error.ts'
import { WorkerCrashedError } from './errors.ts'

/** Start a Web Worker running `he.worker.ts`. */
export function spawnWebHeWorker (): HePort {
  const worker = new Worker(new URL('./he.worker.ts', import.meta.url), { type: 'module', name: 'cerberus-he' })
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
