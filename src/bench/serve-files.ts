/** A loopback file server for pages that load a model by URL (the mesh benchmark, e2e). */
import { createServer, type Server } from 'node:http'

/** Serve files to bench and test pages from another origin (CORS and CORP allow it, as a model host would), on 127.0.0.1. */
export async function serveFiles (files: Record<string, Uint8Array>): Promise<{ server: Server, base: string }> {
  const server = createServer((req, res) => {
    const body = files[(req.url ?? '').split('?')[0]]
    if (body === undefined) { res.writeHead(404).end(); return }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.byteLength), 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' }).end(body)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const a = server.address()
  if (a === null || typeof a === 'string') throw new Error('the file server has no address')
  return { server, base: `http://127.0.0.1:${a.port}` }
}
