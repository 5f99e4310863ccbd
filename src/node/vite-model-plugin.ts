/**
 * A Vite plugin that serves the default model to the browser, read-only, from
 * {@link defaultModelDir}: exactly `/models/default/stories260K.bin` and
 * `/models/default/tok512.bin`, in `vite` (dev) and `vite preview`. Every other path under
 * `/models/` is a 404, so no other file of the machine can be reached through it.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import type { Plugin } from 'vite'
import { DEFAULT_MODEL_FILES, defaultModelDir } from './model-files.ts'

/** The URL prefix this plugin owns. */
export const MODEL_ROUTE_PREFIX = '/models/'

/** URL path → file name: the only files served. Compared raw (no percent-decoding, no normalization). */
const ROUTES: ReadonlyMap<string, string> = new Map(
  Object.values(DEFAULT_MODEL_FILES).map((name) => [`${MODEL_ROUTE_PREFIX}default/${name}`, name])
)

/** Headers of every response of this route. CORP keeps the files to this origin (COEP require-corp pages). */
const COMMON_HEADERS = {
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache'
} as const

function sendText (res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...extra })
  res.end(`${text}\n`)
}

/** A Connect middleware, as Vite's dev and preview servers take it. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void

/** The size of `path` if it is a regular file, else null. */
async function fileSize (path: string): Promise<number | null> {
  try {
    const st = await stat(path)
    return st.isFile() ? st.size : null
  } catch {
    return null
  }
}

/**
 * Connect middleware serving the model files of `dir`; passes every request outside
 * {@link MODEL_ROUTE_PREFIX} on to `next`.
 */
export function createModelFilesMiddleware (dir: string): Middleware {
  return (req, res, next) => {
    const path = (req.url ?? '/').split('?')[0]
    if (!path.startsWith(MODEL_ROUTE_PREFIX)) { next(); return }
    const name = ROUTES.get(path)
    if (name === undefined) {
      sendText(res, 404, `Not found: only ${[...ROUTES.keys()].join(' and ')} are served under ${MODEL_ROUTE_PREFIX}.`)
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'Method not allowed: the model files are read-only.', { Allow: 'GET, HEAD' })
      return
    }
    const file = join(dir, name)
    void fileSize(file).then((size) => {
      if (size === null) {
        sendText(res, 404, `Not found: ${name} is not in the model directory of this server. Run "npm run fetch-model", set CERBERUS_MODEL_DIR to the folder holding ${Object.values(DEFAULT_MODEL_FILES).join(' and ')}, or use "Load model" in the page.`)
        return
      }
      res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) })
      if (req.method === 'HEAD') { res.end(); return }
      createReadStream(file).on('error', () => { res.destroy() }).pipe(res)
    })
  }
}

/** Options of {@link defaultModelPlugin}. */
export interface DefaultModelPluginOptions {
  /** Folder holding the two files. Default: {@link defaultModelDir}() at server start. */
  readonly dir?: string
}

/** Serve the default model at `/models/default/` in dev and preview servers. */
export function defaultModelPlugin (options: DefaultModelPluginOptions = {}): Plugin {
  return {
    name: 'cerberus:default-model',
    configureServer (server) {
      server.middlewares.use(createModelFilesMiddleware(options.dir ?? defaultModelDir()))
    },
    configurePreviewServer (server) {
      server.middlewares.use(createModelFilesMiddleware(options.dir ?? defaultModelDir()))
    }
  }
}
