/**
 * A request's JSON body, read with a bound: bytes beyond {@link MAX_BODY_BYTES} are not
 * read (413), and a body that is not JSON is a 400 — before any model work.
 */
import type { IncomingMessage } from 'node:http'
import { InvalidRequestError, TooLargeError } from './errors.ts'

/**
 * The largest body read. A prompt filling the largest context of a llama2.c model (4096
 * positions for Llama 2 sizes) with a long chat history around it is tens of KiB; 1 MiB
 * is far beyond any prompt that fits and still a small allocation.
 */
export const MAX_BODY_BYTES = 1 << 20

/** Read and parse the body of `req`. @throws {TooLargeError} over the bound, {@link InvalidRequestError} for bad JSON. */
export async function readJsonBody (req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > maxBytes) throw new TooLargeError(`the body is ${declared} bytes; this gateway reads at most ${maxBytes}`, 'request_too_large')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > maxBytes) throw new TooLargeError(`the body is over ${maxBytes} bytes, the most this gateway reads`, 'request_too_large')
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') throw new InvalidRequestError('the body is empty; send a JSON object (Content-Type: application/json)', null, 'invalid_json')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new InvalidRequestError(`the body is not valid JSON: ${(err as Error).message}`, null, 'invalid_json')
  }
}
