/**
 * The gateway's queue: one generation at a time per pipeline (one HE session generates one
 * answer at a time: its keys, its miners' prepared matrices and the engine's KV cache are
 * one conversation's), the waiting requests served fairly — round-robin over clients
 * (their addresses), first come first served within a client — with a bound beyond which
 * a request is refused at once (429) instead of waiting without end.
 */
import { QueueFullError } from './errors.ts'

/**
 * Requests that may wait for the pipeline. An answer of stories260K takes seconds
 * (12 tokens/s encrypted), a big model's minutes; a local gateway serves one person's
 * tools, so 16 waiting requests is already a long wait for the last one. Beyond that, a
 * client is told to retry (429, which the openai clients retry with back-off) rather than
 * holding a socket and its body in memory for minutes.
 */
export const MAX_WAITING_REQUESTS = 16

/** Serves one request at a time, fairly. */
export interface FairQueue {
  /**
   * Wait for the pipeline; resolves with the function that frees it (call it exactly once).
   * @throws {QueueFullError} at once when the queue is full.
   * Rejects with the signal's reason when aborted while waiting (its place is given up).
   */
  acquire: (client: string, signal?: AbortSignal) => Promise<() => void>
  /** Requests waiting now (not counting the one being served). */
  readonly waiting: number
  readonly busy: boolean
}

interface Waiter {
  readonly grant: () => void
}

/** A queue with at most `maxWaiting` waiting requests (default {@link MAX_WAITING_REQUESTS}). */
export function createFairQueue (maxWaiting = MAX_WAITING_REQUESTS): FairQueue {
  // Clients with waiting requests, in their turn order (a Map keeps insertion order).
  const byClient = new Map<string, Waiter[]>()
  let waiting = 0
  let busy = false

  const remove = (client: string, w: Waiter): void => {
    const list = byClient.get(client)
    const i = list?.indexOf(w) ?? -1
    if (list === undefined || i < 0) return
    list.splice(i, 1)
    waiting--
    if (list.length === 0) byClient.delete(client)
  }

  const next = (): void => {
    const first = byClient.entries().next()
    if (first.done === true) { busy = false; return }
    const [client, list] = first.value
    const w = list.shift() as Waiter
    waiting--
    // This client goes to the back of the turn order (round-robin across clients).
    byClient.delete(client)
    if (list.length > 0) byClient.set(client, list)
    w.grant()
  }

  const releaser = (): (() => void) => {
    let done = false
    return () => {
      if (done) return
      done = true
      next()
    }
  }

  return {
    async acquire (client, signal) {
      signal?.throwIfAborted()
      if (!busy) {
        busy = true
        return releaser()
      }
      if (waiting >= maxWaiting) throw new QueueFullError(waiting)
      return await new Promise<() => void>((resolve, reject) => {
        const onAbort = (): void => { remove(client, w); reject(signal?.reason) }
        const w: Waiter = { grant: () => { signal?.removeEventListener('abort', onAbort); resolve(releaser()) } }
        const list = byClient.get(client)
        if (list === undefined) byClient.set(client, [w])
        else list.push(w)
        waiting++
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    },
    get waiting () { return waiting },
    get busy () { return busy }
  }
}
