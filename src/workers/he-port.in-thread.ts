/**
 * An HE service in the calling thread, behind the worker protocol: tests and tools that do
 * not need a separate thread. Pages use Web Workers (he-port.web.ts) instead.
 */
import type { HePort } from './he-client.ts'
import type { HeReply } from './he-protocol.ts'
import { createHeService, type HeServiceInit } from './he-service.ts'

/**
 * A port to an in-thread service: same protocol, no worker (tests, tools). `opts.startGpu`
 * gives it a GPU runtime (tests inject onnxruntime-node's CPU EP, or a failing runner).
 */
export function inThreadPort (opts: Pick<HeServiceInit, 'startGpu'> = {}): HePort {
  let onReply: ((r: HeReply) => void) | undefined
  const service = createHeService({ post: r => { queueMicrotask(() => onReply?.(r)) }, ...opts })
  let queue = Promise.resolve()
  return {
    send (m) { queue = queue.then(async () => { await service.handle(m) }) },
    connect (r) { onReply = r },
    terminate () { onReply = undefined }
  }
}
