/**
 * Node side: an HE worker as a worker_threads thread.
 */
import { Worker } from 'node:worker_threads'
import { WorkerCrashedError } from './errors.ts'
import type { HePort } from './he-client.ts'
import type { HeReply } from './he-protocol.ts'
import { serializeError } from '../core/errors.ts'

/** Options of a Node HE worker thread. */
export interface NodeHeWorkerOptions {
  /** A directory where its squeezes keep their plan memos (plan-store.node.ts); default none. */
  readonly planCache?: string
}

/**
 * Start a worker thread running `he.worker.node.ts`. `onSpawn` sees the thread (tests use
 * it to kill one as an OS would).
 */
export function spawnNodeHeWorker (onSpawn?: (worker: Worker) => void, opts: NodeHeWorkerOptions = {}): HePort {
  const worker = new Worker(new URL('./he.worker.node.ts', import.meta.url), { workerData: opts })
  onSpawn?.(worker)
  let terminated = false
  return {
    send: (message, transfer) => { worker.postMessage(message, transfer) },
    connect (onReply, onCrash) {
      worker.on('message', (r: HeReply) => { onReply(r) })
      worker.on('error', (err) => { onCrash(serializeError(new WorkerCrashedError(err.message))) })
      worker.on('exit', (code) => { if (!terminated) onCrash(serializeError(new WorkerCrashedError(`the thread exited with code ${code}`))) })
    },
    terminate () {
      terminated = true
      void worker.terminate()
    }
  }
}
