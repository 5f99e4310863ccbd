/**
 * Serving the built widget (dist/widget, `npm run build:widget`) so that pages of other
 * origins can embed it: the widget's files at `/widget/…` and the default model at
 * `/models/default/…`, all readable cross-origin.
 *
 * What crosses origins, and the headers that allow it:
 * - `cerberus-chat.js` and its chunks: module scripts are always fetched with CORS, so
 *   they need `Access-Control-Allow-Origin`;
 * - the HE worker script: imported by a blob: bootstrap of the embedding page
 *   (src/widget/worker-bootstrap.ts), again a CORS module fetch;
 * - SEAL's `.wasm` and the model files: `fetch()`ed by the worker and the page, CORS.
 * Nothing is sent with credentials, so `*` is enough. `Cross-Origin-Resource-Policy:
 * cross-origin` also lets a cross-origin-isolated (COEP) page embed the widget.
 *
 * Only files present in the build folder are served (looked up in a listing of it, never
 * by joining the request path onto the disk), so no other file can be reached.
 */
import { createReadStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, relative, sep } from 'node:path'
import { createModelFilesMiddleware } from './vite-model-plugin.ts'

/** URL prefix of the widget's files. */
export const WIDGET_ROUTE_PREFIX = '/widget/'

/** Headers of every response: readable from any origin, never sniffed. */
export const CROSS_ORIGIN_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'X-Content-Type-Options': 'nosniff'
} as const

/** MIME types of what the build emits (`.wasm` must be application/wasm for streaming compilation). */
const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8'
}

type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void

/** Paths (with `/`) of the files under `dir`, relative to it. */
async function listFiles (dir: string): Promise<Set<string>> {
  const out = new Set<string>()
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  for (const e of entries) if (e.isFile()) out.add(relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
  return out
}

function send (res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...CROSS_ORIGIN_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...extra })
  res.end(`${text}\n`)
}

/** Connect-style middleware serving the files of the widget build folder `dir` under {@link WIDGET_ROUTE_PREFIX}. */
export function createWidgetFilesMiddleware (dir: string): Handler {
  return (req, res, next) => {
    const path = (req.url ?? '/').split('?')[0]
    if (!path.startsWith(WIDGET_ROUTE_PREFIX)) { next(); return }
    if (req.method === 'OPTIONS') { res.writeHead(204, { ...CROSS_ORIGIN_HEADERS, 'Access-Control-Allow-Methods': 'GET, HEAD' }).end(); return }
    if (req.method !== 'GET' && req.method !== 'HEAD') { send(res, 405, 'Method not allowed: the widget files are read-only.', { Allow: 'GET, HEAD, OPTIONS' }); return }
    const name = path.slice(WIDGET_ROUTE_PREFIX.length)
    void listFiles(dir).then(async (files) => {
      if (!files.has(name)) { send(res, 404, files.size === 0 ? `Not found: the widget is not built (run "npm run build:widget" to make ${dir}).` : `Not found: ${path}`); return }
      const file = join(dir, name)
      const size = (await stat(file)).size
      const ext = name.slice(name.lastIndexOf('.'))
      res.writeHead(200, {
        ...CROSS_ORIGIN_HEADERS,
        'Content-Type': TYPES[ext] ?? 'application/octet-stream',
        'Content-Length': String(size),
        // The entry keeps its name across builds; the chunks and the .wasm are content-hashed.
        'Cache-Control': name.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'
      })
      if (req.method === 'HEAD') { res.end(); return }
      createReadStream(file).on('error', () => { res.destroy() }).pipe(res)
    }, () => { send(res, 500, 'The widget files could not be read.') })
  }
}

/**
 * The model route of the app's server (src/node/vite-model-plugin.ts), readable
 * cross-origin: the CORS header is set before that middleware writes its own (CORP
 * same-origin there only restricts no-cors loads; these are CORS fetches).
 */
export function createCrossOriginModelMiddleware (modelDir: string): Handler {
  const inner = createModelFilesMiddleware(modelDir)
  return (req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', '*')
    inner(req, res, next)
  }
}

/** Options of {@link startWidgetServer}. */
export interface WidgetServerOptions {
  /** The widget build folder (dist/widget). */
  readonly widgetDir: string
  /** Folder of the default model's two files. */
  readonly modelDir: string
  readonly host?: string
  /** 0 = any free port. */
  readonly port?: number
}

/** A running widget server. */
export interface WidgetServer {
  /** e.g. http://127.0.0.1:5180 (no trailing slash) */
  readonly origin: string
  /** URL of the script tag's `src`. */
  readonly scriptUrl: string
  readonly server: Server
  close: () => Promise<void>
}

/** Serve the widget and the default model, cross-origin readable. */
export async function startWidgetServer (opts: WidgetServerOptions): Promise<WidgetServer> {
  const chain = [createWidgetFilesMiddleware(opts.widgetDir), createCrossOriginModelMiddleware(opts.modelDir)]
  const server = createServer((req, res) => {
    const run = (i: number): void => {
      const h = chain[i]
      if (h === undefined) { send(res, 404, `Not found: this server has only ${WIDGET_ROUTE_PREFIX}… and /models/default/….`); return }
      h(req, res, () => { run(i + 1) })
    }
    run(0)
  })
  const host = opts.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => { server.off('error', reject); resolve() })
  })
  const { port } = server.address() as AddressInfo
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  return {
    origin,
    scriptUrl: `${origin}${WIDGET_ROUTE_PREFIX}cerberus-chat.js`,
    server,
    close: async () => { await new Promise<void>((resolve) => { server.close(() => { resolve() }); server.closeAllConnections() }) }
  }
}
