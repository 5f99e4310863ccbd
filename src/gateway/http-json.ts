/**
 * JSON answers: the one way the gateway writes a non-streamed body.
 */
import type { ServerResponse } from 'node:http'

/** Write `body` as JSON with `status` (nothing when the client is gone or a stream already began). */
export function sendJson (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), ...headers })
  res.end(text)
}
