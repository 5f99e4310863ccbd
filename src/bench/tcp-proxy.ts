/**
 * A shaped TCP proxy on loopback for `bench mesh --link` (issue 12 item 4): the user tab
 * dials the proxy instead of a Node miner's WebSocket port, and every byte each way goes
 * through a {@link LinkShaper} — `toTarget` (the user's uplink, shared by the proxies of
 * all miners) and `fromTarget` (that miner's uplink). It is byte-transparent: the
 * WebSocket handshake, Noise and yamux run end to end through it.
 *
 * What it does not model: TCP between the browser and the proxy and between the proxy and
 * the miner runs at loopback speed, so acknowledgements are not delayed and no congestion
 * window grows over a 50 ms path (bulk transfers after idle are optimistic). A connection
 * that queues more than `maxQueuedBytes` in the shaper stops reading until half is
 * delivered (TCP's own backpressure then reaches the sender). Both sockets have Nagle's
 * algorithm off: the shaper releases a job's frames in pieces, and a piece held for the
 * peer's delayed acknowledgement (up to 40 ms on Linux) would add a round trip the link
 * does not have (measured: 0.56 tok/s on `lan` with it, WebRTC 2.38).
 */
import { createServer, connect, type Server, type Socket } from 'node:net'
import { CerberusError } from '../core/errors.ts'
import type { LinkShaper } from './link-shaper.ts'

/** Only loopback: the bench never shapes (or reaches) anything else. */
export const PROXY_HOST = '127.0.0.1'
/**
 * Bytes a connection may hold in its shaper before it stops reading its socket: 8 MiB is
 * over a second of the `wan` link (50 Mbit/s) — more than any one job's frames — yet
 * bounds the proxy's memory per connection.
 */
export const DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024

/** Options of {@link startShapedProxy}. */
export interface ShapedProxyOptions {
  /** The port on 127.0.0.1 the proxy forwards to. */
  readonly targetPort: number
  /** The link towards the target (the dialler's uplink), and back. */
  readonly toTarget: LinkShaper
  readonly fromTarget: LinkShaper
  /** Listen here (default 0: any free port). */
  readonly port?: number
  readonly maxQueuedBytes?: number
}

/** A running proxy. */
export interface ShapedProxy {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number
  readonly targetPort: number
  /** Connections open now. */
  readonly connections: number
  /** Stop listening and cut every connection (the shapers stay the caller's). */
  close: () => Promise<void>
}

/** The proxy could not start. */
export class ProxyError extends CerberusError {
  constructor (message: string) {
    super('BENCH_PROXY', message)
  }
}

/** Carry `from`'s bytes to `to` through `link`, in order, then its end-of-stream. */
function pipeShaped (from: Socket, to: Socket, link: LinkShaper, maxQueued: number): void {
  let queued = 0
  from.on('data', (chunk: Buffer) => {
    queued += chunk.byteLength
    link.send(chunk.byteLength, () => {
      queued -= chunk.byteLength
      if (!to.destroyed) to.write(chunk)
      if (from.isPaused() && queued <= maxQueued / 2) from.resume()
    })
    if (queued > maxQueued) from.pause()
  })
  // A half-close travels the link like data: it arrives after the last byte.
  from.on('end', () => { link.send(0, () => { if (!to.destroyed) to.end() }) })
}

/**
 * Listen on 127.0.0.1 and forward every connection to `targetPort`, shaped.
 * @throws ProxyError when it cannot listen.
 */
export async function startShapedProxy (opts: ShapedProxyOptions): Promise<ShapedProxy> {
  const maxQueued = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES
  const live = new Set<Socket>()
  let pairs = 0
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, client => {
    const upstream = connect({ host: PROXY_HOST, port: opts.targetPort, allowHalfOpen: true, noDelay: true })
    pairs++
    let open = 2
    for (const s of [client, upstream]) {
      live.add(s)
      s.on('close', () => {
        live.delete(s)
        if (--open === 0) pairs--
      })
    }
    // A reset or error on either side cuts both at once (a real path would drop what is in flight too).
    const cut = (): void => { client.destroy(); upstream.destroy() }
    client.on('error', cut)
    upstream.on('error', cut)
    pipeShaped(client, upstream, opts.toTarget, maxQueued)
    pipeShaped(upstream, client, opts.fromTarget, maxQueued)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', err => { reject(new ProxyError(`the shaped proxy cannot listen on ${PROXY_HOST}:${opts.port ?? 0}: ${err.message}`)) })
    server.listen(opts.port ?? 0, PROXY_HOST, resolve)
  })
  const a = server.address()
  if (a === null || typeof a === 'string') throw new ProxyError('the shaped proxy has no address')
  return {
    port: a.port,
    targetPort: opts.targetPort,
    get connections () { return pairs },
    async close () {
      for (const s of live) s.destroy()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}
