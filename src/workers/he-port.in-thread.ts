/**
 * An HE service in the calling thread, behind the worker protocol: tests and tools that do
 * not need a separate thread. Pages use Web Workers (he-port.web.ts) instead.
 */
import type { HePort } from './he-client.ts'
import type { HeReply } from './he-protocol.ts'
import { createHeService } from './he-service.ts'

/** A port to an in-thread service: same protocol, no worker (tests, tools). */
export function inThreadPort (): HePort {
  let onReply: ((r: HeReply) => void) | undefined
  const service = createHeService({ post: r => { queueMicrotask(() => onReply?.(r)) } })
  let queue = Promise.resolve()
  return {
    send (m) { queue = queue.then(async () => { await service.handle(m) }) },
    connect (r) { onReply = r },
    terminate () { onReply = undefined }
  }
}
