/**
 * Server-Sent Events as OpenAI streams them: `Content-Type: text/event-stream`, one
 * `data: <JSON>` line and a blank line per chunk, no `event:` names, and `data: [DONE]`
 * last. An error after the stream began is sent as a chunk `{"error": {…}}` (what the
 * openai clients turn into an `APIError`), then `[DONE]`.
 */
import type { ServerResponse } from 'node:http'

/** The terminator every OpenAI stream ends with. */
export const SSE_DONE = 'data: [DONE]\n\n'

/** Start an event stream on `res` (status 200, headers flushed now so the client sees the stream open). */
export function openEventStream (res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
    // proxies (nginx) must not buffer the stream
    'X-Accel-Buffering': 'no'
  })
  res.flushHeaders()
}

/** One event: the JSON of `data` on one `data:` line (JSON.stringify never writes a raw newline). */
export function sseEvent (data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`
}

/** Write one event unless the client is gone. */
export function sendEvent (res: ServerResponse, data: unknown): void {
  if (!res.writableEnded && !res.destroyed) res.write(sseEvent(data))
}

/** Write `[DONE]` and end the response. */
export function endEventStream (res: ServerResponse): void {
  if (!res.writableEnded && !res.destroyed) res.end(SSE_DONE)
}
