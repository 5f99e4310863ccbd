/**
 * `GET /cerberus.json`: where the page finds the mesh. `npm start` (scripts/start.ts)
 * starts a relay on a port of its choosing and tells the page its multiaddr through this
 * route, so the app and the relay never disagree about a port. The document is tiny and
 * public (a relay address is not a secret); it is never cached, since a restart may move
 * the relay.
 */
import type { Plugin } from 'vite'
import type { Middleware } from './vite-model-plugin.ts'

/** The path the page fetches. */
export const APP_CONFIG_PATH = '/cerberus.json'

/** What the page learns from the server. */
export interface AppConfig {
  /** Multiaddr of the signaling relay, e.g. /ip4/127.0.0.1/tcp/9090/ws/p2p/12D3… */
  readonly relay: string
}

/** Connect middleware answering {@link APP_CONFIG_PATH} with `config`; everything else goes to `next`. */
export function createAppConfigMiddleware (config: AppConfig): Middleware {
  const body = JSON.stringify(config)
  return (req, res, next) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== APP_CONFIG_PATH) { next(); return }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('Method not allowed\n')
      return
    }
    res.writeHead(200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      // Same-origin only: the app page is cross-origin isolated (COEP require-corp).
      'Cross-Origin-Resource-Policy': 'same-origin',
      'X-Content-Type-Options': 'nosniff'
    })
    res.end(req.method === 'HEAD' ? undefined : body)
  }
}

/** A Vite plugin serving {@link APP_CONFIG_PATH} in the dev and preview servers. */
export function appConfigPlugin (config: AppConfig): Plugin {
  return {
    name: 'cerberus:app-config',
    configureServer (server) { server.middlewares.use(createAppConfigMiddleware(config)) },
    configurePreviewServer (server) { server.middlewares.use(createAppConfigMiddleware(config)) }
  }
}
