/**
 * The gateway's HTTP server (node:http): an OpenAI-compatible API on this machine, so
 * every existing client and tool can use Cerberus unchanged. It listens on 127.0.0.1 by
 * default; bound anywhere else it can require a bearer token (401 without it) — the
 * caller warns. On loopback it accepts only loopback `Host` names, so a web page cannot
 * reach it through DNS rebinding; it sends no CORS headers, so other pages' scripts cannot
 * read its answers.
 */
import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { GatewayBackend } from './backend.ts'
import { errorResponse, GatewayError, NotFoundError, UnauthorizedError } from './errors.ts'
import { sendJson } from './http-json.ts'
import { createFairQueue, MAX_WAITING_REQUESTS } from './queue.ts'
import { handleCompletion, handleModels, type AnswerInfo, type RouteContext } from './routes.ts'

/** The port of `cerberus serve` without `--port` (the one local OpenAI-compatible servers usually take). */
export const DEFAULT_GATEWAY_PORT = 8080
/** Where it listens without `--host`: this machine only. */
export const DEFAULT_GATEWAY_HOST = '127.0.0.1'

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** Default {@link DEFAULT_GATEWAY_PORT}; 0 = any free port. */
  readonly port?: number
  /** Default {@link DEFAULT_GATEWAY_HOST}. */
  readonly host?: string
  /** When set, every request needs `Authorization: Bearer <token>`. */
  readonly token?: string
  /** Waiting requests before 429 (default {@link MAX_WAITING_REQUESTS}). */
  readonly maxWaiting?: number
  readonly onAnswer?: (info: AnswerInfo) => void
}

/** A running gateway. */
export interface Gateway {
  /** e.g. `http://127.0.0.1:8080/v1` — what an OpenAI client's `baseURL` takes. */
  readonly baseUrl: string
  readonly host: string
  readonly port: number
  /** True when it listens beyond this machine's loopback. */
  readonly exposed: boolean
  /** Stop listening and end open connections (answers in progress are stopped). */
  close: () => Promise<void>
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost'])

/** Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost). */
export function isLoopback (host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/** The name in a `Host` header, without its port (`[::1]:8080` → `::1`). */
function hostName (header: string | undefined): string {
  if (header === undefined) return ''
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(header) ?? /^([^:]+)(?::\d+)?$/.exec(header)
  return m?.[1].toLowerCase() ?? header
}

function authorized (req: IncomingMessage, token: string): boolean {
  const got = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? ''
  const a = Buffer.from(got)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

async function route (ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://gateway').pathname.replace(/\/+$/, '')
  const method = req.method ?? 'GET'
  const only = (allowed: string): void => {
    if (method !== allowed) throw new GatewayError(405, 'invalid_request_error', 'method_not_allowed', `${method} ${path} is not allowed; use ${allowed}`)
  }
  if (path === '/v1/models') { only('GET'); handleModels(ctx, res); return }
  if (path.startsWith('/v1/models/')) { only('GET'); handleModels(ctx, res, decodeURIComponent(path.slice('/v1/models/'.length))); return }
  if (path === '/v1/chat/completions') { only('POST'); await handleCompletion(ctx, 'chat', req, res); return }
  if (path === '/v1/completions') { only('POST'); await handleCompletion(ctx, 'completions', req, res); return }
  throw new NotFoundError(`no route ${method} ${path}; this gateway serves GET /v1/models, POST /v1/chat/completions and POST /v1/completions`, 'unknown_url')
}

/** Listen and serve `backend`. Rejects when the port cannot be taken. */
export async function startGateway (backend: GatewayBackend, opts: GatewayOptions = {}): Promise<Gateway> {
  const host = opts.host ?? DEFAULT_GATEWAY_HOST
  const exposed = !isLoopback(host)
  const ctx: RouteContext = { backend, queue: createFairQueue(opts.maxWaiting ?? MAX_WAITING_REQUESTS), onAnswer: opts.onAnswer }
  const server = createServer((req, res) => {
    void (async () => {
      try {
        if (!exposed && !isLoopback(hostName(req.headers.host))) throw new GatewayError(403, 'invalid_request_error', 'forbidden_host', `this gateway listens on loopback and answers only requests for 127.0.0.1 or localhost, not "${req.headers.host ?? ''}"`)
        if (opts.token !== undefined && !authorized(req, opts.token)) throw new UnauthorizedError()
        await route(ctx, req, res)
      } catch (err) {
        const { status, body } = errorResponse(err)
        // A body that was not read (refused early) is not drained: the connection closes after the answer.
        sendJson(res, status, body, req.readableEnded ? {} : { Connection: 'close' })
      }
    })()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? DEFAULT_GATEWAY_PORT, host, () => { server.off('error', reject); resolve() })
  })
  const port = (server.address() as AddressInfo).port
  const shown = host.includes(':') ? `[${host}]` : host
  return {
    baseUrl: `http://${shown === '0.0.0.0' || shown === '[::]' ? '127.0.0.1' : shown}:${port}/v1`,
    host,
    port,
    exposed,
    async close () {
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}
