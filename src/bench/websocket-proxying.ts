/**
 * How the bench's user tab reaches Node miners through their shaped proxies (tcp-proxy.ts)
 * for `bench mesh --link`: a miner announces its own address (ws://127.0.0.1:PORT), so the
 * bench hands the page a port map (`wsproxy=PORT-PROXYPORT,…`, a bench-only query
 * parameter) and the page replaces `WebSocket` with one that dials the proxy for a mapped
 * port. libp2p dials `new WebSocket(url)` at dial time, so nothing else changes: the peer
 * id is still checked end to end by Noise. Only 127.0.0.1 addresses are rewritten.
 */
import { CerberusError } from '../core/errors.ts'

/** A map of announced port → proxy port. */
export type PortMap = ReadonlyMap<number, number>

/** At most 64 entries: the bench runs two miners; more is a malformed parameter. */
export const MAX_PROXIED_PORTS = 64

/** A `wsproxy` parameter that is not a list of port pairs. */
export class PortMapError extends CerberusError {
  constructor (message: string) {
    super('BENCH_PORT_MAP', message)
  }
}

function port (text: string, whole: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN
  if (!(n >= 1 && n <= 65535)) throw new PortMapError(`wsproxy must be PORT-PROXYPORT pairs separated by commas (ports 1–65535), got "${whole}"`)
  return n
}

/** Parse `41001-52001,41002-52002`. @throws PortMapError */
export function parsePortMap (text: string): PortMap {
  const pairs = text.split(',')
  if (pairs.length > MAX_PROXIED_PORTS) throw new PortMapError(`wsproxy maps at most ${MAX_PROXIED_PORTS} ports, got ${pairs.length}`)
  const map = new Map<number, number>()
  for (const pair of pairs) {
    const [from, to, ...rest] = pair.split('-')
    if (to === undefined || rest.length > 0) throw new PortMapError(`wsproxy must be PORT-PROXYPORT pairs separated by commas, got "${text}"`)
    const f = port(from, text)
    if (map.has(f)) throw new PortMapError(`wsproxy maps port ${f} twice in "${text}"`)
    map.set(f, port(to, text))
  }
  return map
}

/** Format a map as {@link parsePortMap} reads it. */
export function formatPortMap (map: PortMap): string {
  return [...map].map(([f, t]) => `${f}-${t}`).join(',')
}

/** The URL to dial for `url`: the proxy's when it is a mapped port on 127.0.0.1, else `url`. */
export function proxiedUrl (url: string | URL, map: PortMap): string {
  const u = new URL(url)
  const to = u.hostname === '127.0.0.1' ? map.get(Number(u.port)) : undefined
  if (to === undefined) return u.href
  u.port = String(to)
  return u.href
}

/**
 * Make `scope.WebSocket` dial through the map from now on. Returns a function that
 * restores the original.
 */
export function proxyWebSockets (map: PortMap, scope: { WebSocket: typeof WebSocket } = globalThis): () => void {
  const Native = scope.WebSocket
  class ProxiedWebSocket extends Native {
    constructor (url: string | URL, protocols?: string | string[]) {
      super(proxiedUrl(url, map), protocols)
    }
  }
  scope.WebSocket = ProxiedWebSocket
  return () => { scope.WebSocket = Native }
}
