/**
 * Protocol messages over libp2p streams: one length-prefixed frame each way, with
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
 * Read exactly one message from the stream (the first complete frame). Call it before
 * sending anything the other side answers: a libp2p 3 stream's iterator misses an end that
 * came before the iterator existed, so it must exist first. When `signal` aborts, the
 * stream is aborted too, so a peer that never answers cannot hold the reader.
 * @throws {ProtocolError} for a malformed frame, or a stream that ends before one.
 */
export async function readMessage (stream: Stream, signal?: AbortSignal): Promise<LinearMessage> {
  const decoder = new FrameDecoder()
  const onAbort = (): void => { stream.abort(signal?.reason instanceof Error ? signal.reason : new Error('aborted')) }
  if (signal?.aborted === true) onAbort()
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    for await (const chunk of stream) {
      signal?.throwIfAborted()
      const bodies = decoder.push(chunk instanceof Uint8Array ? chunk : chunk.subarray())
      if (bodies.length > 0) return decodeMessage(bodies[0])
    }
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
  signal?.throwIfAborted()
  throw new ProtocolError('the stream ended before a complete message')
}
