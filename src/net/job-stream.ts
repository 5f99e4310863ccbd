/**
 * The user's long-lived job stream to one miner (`/cerberus/linear/2.0.0`): requests are
 * pipelined on it, each answered by a frame carrying its job id, in any order. Opening it
 * (dial, stream, protocol negotiation) happens once, not per job. A result for a job this
 * stream did not send is a broken miner: the stream is refused and every pending job fails
 * with a typed error. A duplicate answer to a job already answered is ignored. When the
 * stream dies, its pending jobs fail with {@link StreamClosedError}, which the link answers
 * by opening a new stream and sending them again.
 */
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { CerberusError } from '../core/errors.ts'
import { LINEAR_PROTOCOL, type LinearError, type LinearKeys, type LinearRequest, type LinearResult } from '../core/protocol/index.ts'
import { messageWriter, readMessages, type MessageWriter } from './frames.ts'

/**
 * Answered job ids remembered to recognise duplicates: more than the jobs of a few tokens
 * of any model (48 per token at 768-dim × 12), bounded so a stream's memory is too.
 */
export const ANSWERED_IDS_KEPT = 1024

/** The stream went away before the job was answered (the link opens another and re-sends). */
export class StreamClosedError extends CerberusError {
  constructor (message: string, cause?: unknown) {
    super('STREAM_CLOSED', message, { cause })
  }
}

/** The miner broke the protocol on this stream (an answer to a job it was never sent, a malformed frame). */
export class StreamProtocolError extends CerberusError {
  constructor (message: string) {
    super('BAD_REPLY', message)
  }
}

interface Waiter {
  readonly resolve: (m: LinearResult | LinearError) => void
  readonly reject: (e: Error) => void
}

/** An open job stream. */
export interface JobStream {
  /** Send a request and wait for its answer (a result or a typed error frame). */
  request: (m: LinearRequest, signal: AbortSignal, observe?: (frame: Uint8Array) => void) => Promise<LinearResult | LinearError>
  /** Send a message the miner does not answer (a session's Galois key set), in order before what follows. */
  send: (m: LinearKeys, observe?: (frame: Uint8Array) => void) => Promise<void>
  /** Whether new requests may be sent on it. */
  readonly usable: boolean
  /** Duplicate answers ignored so far. */
  readonly duplicates: number
  close: () => void
}

/** Open a job stream to `target` (dialling it if needed). */
export async function openJobStream (node: Libp2p, target: PeerId | Multiaddr, signal: AbortSignal): Promise<JobStream> {
  const stream: Stream = await node.dialProtocol(target, LINEAR_PROTOCOL, { signal })
  const writer: MessageWriter = messageWriter(stream)
  const waiting = new Map<string, Waiter>()
  const answered = new Set<string>()
  let usable = true
  let duplicates = 0

  const failAll = (err: Error): void => {
    usable = false
    const all = [...waiting.values()]
    waiting.clear()
    for (const w of all) w.reject(err)
  }
  const remember = (job: string): void => {
    answered.add(job)
    if (answered.size > ANSWERED_IDS_KEPT) answered.delete(answered.values().next().value as string)
  }

  // Read from the start: a libp2p 3 stream's iterator misses an end that came before it existed.
  void (async () => {
    try {
      for await (const item of readMessages(stream)) {
        if (!item.ok) throw new StreamProtocolError(`the miner sent a malformed frame: ${item.error.message}`)
        const m = item.message
        if (m.type === 'request' || m.type === 'keys') throw new StreamProtocolError(`the miner sent a ${m.type} message`)
        const w = waiting.get(m.job)
        if (w !== undefined) {
          waiting.delete(m.job)
          remember(m.job)
          w.resolve(m)
        } else if (answered.has(m.job)) {
          duplicates++
        } else if (m.type === 'error' && m.job === '') {
          // the miner refused the stream itself (it ends it): nothing pending was answered
          throw new StreamClosedError(`the miner ended the stream: ${m.message}`)
        } else {
          throw new StreamProtocolError(`the miner answered job "${m.job.slice(0, 80)}", which this stream never sent`)
        }
      }
      failAll(new StreamClosedError('the miner closed the stream'))
    } catch (err) {
      const e = err instanceof CerberusError ? err : new StreamClosedError(`the stream failed: ${(err as Error).message}`, err)
      failAll(e)
      stream.abort(e)
    }
  })()

  return {
    get usable () { return usable },
    get duplicates () { return duplicates },
    async send (m, observe) {
      if (!usable) throw new StreamClosedError('the stream is closed')
      try {
        await writer.write(m, observe)
      } catch (err) {
        throw new StreamClosedError(`the message could not be sent: ${(err as Error).message}`, err)
      }
    },
    async request (m, sig, observe) {
      if (!usable) throw new StreamClosedError('the stream is closed')
      if (waiting.has(m.job)) throw new CerberusError('DUPLICATE_JOB', `job ${m.job} is already pending on this stream`)
      const answer = new Promise<LinearResult | LinearError>((resolve, reject) => { waiting.set(m.job, { resolve, reject }) })
      answer.catch(() => {}) // awaited below unless the write fails first
      const onAbort = (): void => {
        if (waiting.delete(m.job)) remember(m.job) // a late answer is then a duplicate, ignored
      }
      sig.addEventListener('abort', onAbort, { once: true })
      // Removed once answered: a listener left on a timeout signal keeps it — and through this
      // closure the job's answer, its ciphertexts — alive until the timeout fires (60 s).
      let onTimeout: (() => void) | undefined
      try {
        try {
          await writer.write(m, observe)
        } catch (err) {
          throw new StreamClosedError(`the request could not be sent: ${(err as Error).message}`, err)
        }
        return await Promise.race([answer, new Promise<never>((_resolve, reject) => {
          if (sig.aborted) { reject(sig.reason); return }
          onTimeout = () => { reject(sig.reason) }
          sig.addEventListener('abort', onTimeout, { once: true })
        })])
      } finally {
        sig.removeEventListener('abort', onAbort)
        if (onTimeout !== undefined) sig.removeEventListener('abort', onTimeout)
        waiting.delete(m.job)
      }
    },
    close () {
      usable = false
      void stream.close().catch(() => { stream.abort(new Error('closed')) })
    }
  }
}
