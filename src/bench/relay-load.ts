/**
 * The relay under load: N libp2p peers on loopback each dial the relay and make a
 * circuit-relay-v2 reservation the way a browser donor does (listening on `/p2p-circuit`
 * with the circuit-relay transport: WebSocket, noise, yamux, identify, then RESERVE), at
 * most `concurrency` at a time; the time to a reservation is from the dial to the moment
 * the peer has its `/p2p-circuit` address. All peers stay connected until the last one is
 * done (so the relay holds N reservations at once), then all are stopped.
 *
 * Without `relayAddr` the relay runs in a child process (relay-process.ts) so its memory is
 * measured alone, with the per-host connection rate limit raised: every peer here comes from
 * 127.0.0.1, which a real relay would see as one host opening N connections.
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { CerberusError } from '../core/errors.ts'
import { spawnRelayProcess, type RelayProcess } from './relay-process.ts'

/** Options of {@link measureRelayLoad}. */
export interface RelayLoadOptions {
  /** Peers making a reservation (default 500, at most 2,000: each is a whole libp2p node in this process). */
  readonly peers?: number
  /** Reservations in progress at once (default 8, a steady arrival; 32 makes a burst). */
  readonly concurrency?: number
  /** A running relay to load (default: one started here, in a child process). */
  readonly relayAddr?: string
  /** Its /health URL, for the memory figures when `relayAddr` is given. */
  readonly healthUrl?: string
  /** Give up on one peer after this long (default 30 s). */
  readonly timeoutMs?: number
  readonly onProgress?: (done: number, total: number) => void
}

/** What {@link measureRelayLoad} measured. Times in ms. */
export interface RelayLoadReport {
  readonly peers: number
  readonly concurrency: number
  readonly ok: number
  readonly failed: number
  /** Dial → reservation (the peer holds a /p2p-circuit address). */
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** Dial → connection open (WebSocket + noise + yamux), the first part of the above. */
  readonly connectP50Ms: number
  readonly connectP99Ms: number
  /** Reservations the relay reported holding with every peer connected. */
  readonly relayReservations?: number
  /** The relay's memory (MiB; after a full GC when the relay runs here) before the peers and with all of them. */
  readonly relayHeapMiB?: { readonly before: number, readonly loaded: number }
  readonly relayRssMiB?: { readonly before: number, readonly loaded: number }
  readonly seconds: number
  /** Failure messages, counted. */
  readonly errors: Record<string, number>
}

/** The benchmark could not run. */
export class RelayLoadError extends CerberusError {
  constructor (message: string) {
    super('RELAY_LOAD', message)
  }
}

type LoadPeer = Libp2p<{ identify: unknown }>

async function loadPeer (): Promise<LoadPeer> {
  return await createLibp2p({
    addresses: { listen: ['/p2p-circuit'] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify() }
  })
}

/**
 * How often a peer's addresses are checked for the reservation. libp2p debounces
 * `self:peer:update` by 1 s, which would swamp the measurement; `getMultiaddrs()` is live.
 */
const POLL_MS = 2

/** One peer: dial, then wait for the reservation. Returns [connectMs, reservedMs]. */
async function reserve (node: LoadPeer, relay: string, timeoutMs: number): Promise<[number, number]> {
  const signal = AbortSignal.timeout(timeoutMs)
  const t0 = performance.now()
  await node.dial(multiaddr(relay), { signal })
  const t1 = performance.now()
  while (!node.getMultiaddrs().some(a => a.toString().includes('/p2p-circuit'))) {
    if (signal.aborted) throw new RelayLoadError('no reservation before the timeout')
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
  return [t1 - t0, performance.now() - t0]
}

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
}

const mib = (b: number): number => Math.round(b / 2 ** 20 * 10) / 10

/** Load a relay with `peers` reservations and measure how long each took. @throws {RelayLoadError} */
export async function measureRelayLoad (opts: RelayLoadOptions = {}): Promise<RelayLoadReport> {
  const n = opts.peers ?? 500
  const concurrency = opts.concurrency ?? 8
  if (!Number.isInteger(n) || n < 1 || n > 2000) throw new RelayLoadError(`peers must be 1..2000, got ${n}`)
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > n) throw new RelayLoadError(`concurrency must be 1..peers, got ${concurrency}`)
  const timeoutMs = opts.timeoutMs ?? 30_000
  let proc: RelayProcess | undefined
  let relayAddr = opts.relayAddr
  let healthUrl = opts.healthUrl
  if (relayAddr === undefined) {
    proc = await spawnRelayProcess({ inboundConnectionThreshold: 1_000_000 })
    relayAddr = proc.addr
    healthUrl = proc.healthUrl
  }
  const memory = async (): Promise<{ heapUsed: number, rss: number } | undefined> => {
    if (proc !== undefined) return await proc.memory()
    if (healthUrl === undefined) return undefined
    return ((await (await fetch(healthUrl)).json()) as { memory?: { heapUsed: number, rss: number } }).memory
  }
  const nodes: LoadPeer[] = []
  const times: number[] = []
  const connects: number[] = []
  const errors: Record<string, number> = {}
  const t0 = performance.now()
  try {
    const before = await memory()
    let next = 0
    let done = 0
    const lane = async (): Promise<void> => {
      while (next < n) {
        next++
        const node = await loadPeer()
        nodes.push(node)
        try {
          const [c, r] = await reserve(node, relayAddr, timeoutMs)
          connects.push(c)
          times.push(r)
        } catch (err) {
          const key = (err as Error).message.slice(0, 120)
          errors[key] = (errors[key] ?? 0) + 1
        }
        opts.onProgress?.(++done, n)
      }
    }
    await Promise.all(Array.from({ length: concurrency }, lane))
    const seconds = (performance.now() - t0) / 1000
    let relayReservations: number | undefined
    if (healthUrl !== undefined) relayReservations = ((await (await fetch(healthUrl)).json()) as { reservations: number }).reservations
    const loaded = await memory()
    times.sort((a, b) => a - b)
    connects.sort((a, b) => a - b)
    const r1 = (x: number): number => Math.round(x * 10) / 10
    return {
      peers: n,
      concurrency,
      ok: times.length,
      failed: n - times.length,
      p50Ms: r1(percentile(times, 0.5)),
      p90Ms: r1(percentile(times, 0.9)),
      p99Ms: r1(percentile(times, 0.99)),
      maxMs: r1(times[times.length - 1] ?? Number.NaN),
      connectP50Ms: r1(percentile(connects, 0.5)),
      connectP99Ms: r1(percentile(connects, 0.99)),
      ...(relayReservations === undefined ? {} : { relayReservations }),
      ...(before === undefined || loaded === undefined
        ? {}
        : { relayHeapMiB: { before: mib(before.heapUsed), loaded: mib(loaded.heapUsed) }, relayRssMiB: { before: mib(before.rss), loaded: mib(loaded.rss) } }),
      seconds: r1(seconds),
      errors
    }
  } finally {
    // stop in parallel batches: 500 sequential stops take long, all at once floods the loop
    for (let i = 0; i < nodes.length; i += 50) await Promise.all(nodes.slice(i, i + 50).map(async node => { try { await node.stop() } catch { /* already stopped or failed to start */ } }))
    await proc?.stop()
  }
}

/** The report as a Markdown table. */
export function formatRelayLoad (r: RelayLoadReport): string {
  const lines = [
    '| peers | concurrency | ok | failed | p50 ms | p90 ms | p99 ms | max ms | connect p50 / p99 ms | relay reservations | relay heap MiB (before → loaded) | relay RSS MiB | seconds |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    `| ${r.peers} | ${r.concurrency} | ${r.ok} | ${r.failed} | ${r.p50Ms} | ${r.p90Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.connectP50Ms} / ${r.connectP99Ms} | ${r.relayReservations ?? '—'} | ${r.relayHeapMiB === undefined ? '—' : `${r.relayHeapMiB.before} → ${r.relayHeapMiB.loaded}`} | ${r.relayRssMiB === undefined ? '—' : `${r.relayRssMiB.before} → ${r.relayRssMiB.loaded}`} | ${r.seconds} |`
  ]
  for (const [msg, count] of Object.entries(r.errors)) lines.push('', `${count} × ${msg}`)
  return lines.join('\n') + '\n'
}
