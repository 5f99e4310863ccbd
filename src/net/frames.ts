/**
 * Protocol messages over libp2p streams: length-prefixed frames each way, with
 * back-pressure (wait for drain) and a bound on what is buffered.
 */
import type { Stream } from '@libp2p/interface'
import { decodeMessage, encodeMessage, frame, FrameDecoder, ProtocolError, type LinearMessage } from '../core/protocol/index.ts'

/** Bytes per `send` call: large enough to be efficient, small enough to interleave. */
const CHUNK = 64 * 1024

/** Send one message as a frame, waiting for the stream to drain when it asks. */
export async function sendMessage (stream: Stream, m: LinearMessage, signal?: AbortSignal, observe?: (frame: Uint8Array) => void): Promise<void> {
  const bytes = frame(encodeMessage(m))
  observe?.(bytes)
  for (let o = 0; o < bytes.length; o += CHUNK) {
    signal?.throwIfAborted()
    if (!stream.send(bytes.subarray(o, Math.min(o + CHUNK, bytes.length)))) await stream.onDrain({ signal })
  }
}

/**
 * Writes messages to one stream one after the other (frames must not interleave), without
 * making the caller wait for the previous write; `drained` resolves when all are sent.
 */
export interface MessageWriter {
  write: (m: LinearMessage, observe?: (frame: Uint8Array) => void) => Promise<void>
}

/** A {@link MessageWriter} for `stream`; a failed write aborts the stream. */
export function messageWriter (stream: Stream): MessageWriter {
  let tail: Promise<void> = Promise.resolve()
  return {
    write (m, observe) {
      const next = tail.then(async () => { await sendMessage(stream, m, undefined, observe) })
      tail = next.catch((err: unknown) => { stream.abort(err instanceof Error ? err : new Error(String(err))) })
      return next
    }
  }
}

/** What {@link readMessages} sees: a decoded message, or a frame that could not be decoded. */
export type ReadItem = { readonly ok: true, readonly message: LinearMessage } | { readonly ok: false, readonly error: ProtocolError }

/**
 * Every message on `stream`, as it arrives, until the stream ends. Start it before
 * sending anything the other side answers: a libp2p 3 stream's iterator misses an end that
 * came before the iterator existed. A body that does not decode is yielded as an error (the
 * caller decides); a broken frame header ends the iteration with a ProtocolError.
 * `onChunk` sees the bytes held for an incomplete frame after each chunk (for timeouts).
 */
export async function * readMessages (stream: Stream, onChunk?: (pending: number) => void): AsyncGenerator<ReadItem> {
  const decoder = new FrameDecoder()
  for await (const chunk of stream) {
    const bodies = decoder.push(chunk instanceof Uint8Array ? chunk : chunk.subarray())
    onChunk?.(decoder.pending)
    for (const body of bodies) {
      try {
        yield { ok: true, message: decodeMessage(body) }
      } catch (err) {
        yield { ok: false, error: err instanceof ProtocolError ? err : new ProtocolError((err as Error).message) }
      }
    }
  }
}
