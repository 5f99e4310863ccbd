/**
 * Fuzzing the relay: random and mutated frames against every protocol it speaks, over a
 * real libp2p connection, plus raw WebSocket garbage before the noise handshake.
 *
 * Targets: circuit-relay-v2 hop (length-prefixed HopMessage protobufs: RESERVE, CONNECT,
 * STATUS), gossipsub and floodsub (RPCs: subscriptions, messages, control), identify and
 * ping, the announcement snapshot, protocols the relay does not speak (circuit-relay stop,
 * identify push, made-up names), and raw WebSocket connections carrying random bytes or a
 * mutated multistream-select + noise opening. Each frame gets a deadline: a frame whose
 * stream has not ended (or been refused, or reset) by then counts as a hang. Every
 * `checkEvery` frames the relay must still answer a ping and /health. A check that misses
 * its deadline is tried again (up to `checkAttempts` times, each with a fresh deadline):
 * a relay that is slow under load is told from one that is dead, and the slow ones are
 * counted in the report (`slowChecks`, `checkRetries`).
 *
 * Used by src/bench/relay-fuzz.test.ts (10,000 frames in CI) and scripts/fuzz-relay.ts
 * (`npm run fuzz:relay`, 100,000).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ping, type Ping } from '@libp2p/ping'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { ANNOUNCE_TOPIC } from '../net/discovery/index.ts'
import { ANNOUNCEMENTS_PROTOCOL } from '../net/discovery/index.ts'
import { SCORES_PROTOCOL, SCORES_TOPIC } from '../net/scores/index.ts'
import { prng } from '../core/prng.ts'

/** What a target is. */
export type FuzzTarget = 'hop' | 'gossipsub' | 'floodsub' | 'identify' | 'ping' | 'announcements' | 'scores' | 'unsupported' | 'raw-ws'

/** How one frame ended. */
export type FuzzOutcome = 'reply' | 'reply-open' | 'closed' | 'reset' | 'sent' | 'unsupported' | 'refused' | 'hang'

/** Options of {@link fuzzRelay}. */
export interface RelayFuzzOptions {
  /** The relay's dialable address (…/ws/p2p/12D3…). */
  readonly relayAddr: string
  readonly healthUrl: string
  readonly frames: number
  readonly seed?: number
  /** Frames in flight at once (default 8). */
  readonly concurrency?: number
  /** A frame must settle within this (default 5 s). */
  readonly deadlineMs?: number
  /** Check the relay answers a ping and /health every this many frames (default 1,000). */
  readonly checkEvery?: number
  /** Attempts a liveness check gets, each within `deadlineMs`, before the relay counts as dead (default 4). */
  readonly checkAttempts?: number
  /** Fuzz only these targets (default all, in the shares of WEIGHTS). */
  readonly only?: readonly FuzzTarget[]
  readonly onProgress?: (done: number, total: number) => void
}

/** What {@link fuzzRelay} saw. */
export interface RelayFuzzReport {
  readonly frames: number
  readonly seconds: number
  /** Outcomes per target. */
  readonly targets: Record<string, Partial<Record<FuzzOutcome, number>>>
  /** Why streams were refused (the dial's error names and messages), counted. */
  readonly refusals: Record<string, number>
  /** Mean time of a frame per target, ms. */
  readonly meanMs: Record<string, number>
  readonly hangs: number
  /** The slowest frame, ms. */
  readonly maxFrameMs: number
  /** Liveness checks passed, and the slowest (ms). */
  readonly checks: number
  readonly maxCheckMs: number
  /** Checks that passed only on a later attempt (the relay was slow, not dead). */
  readonly slowChecks: number
  /** Why earlier attempts of those checks failed, counted. */
  readonly checkRetries: Record<string, number>
  /** Times the fuzzing connection to the relay had to be made again. */
  readonly reconnects: number
}

/** The relay stopped answering (a liveness check failed). */
export class RelayFuzzError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'RelayFuzzError'
  }
}

/* Minimal protobuf and framing, enough to build seeds. */
const te = new TextEncoder()
function uvarint (n: number): number[] {
  const out: number[] = []
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return out
}
function cat (...parts: Array<Uint8Array | number[]>): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}
/** A protobuf field: a varint (number) or length-delimited (bytes, string). */
function pb (field: number, v: number | Uint8Array | string): Uint8Array {
  if (typeof v === 'number') return cat([field << 3], uvarint(v))
  const b = typeof v === 'string' ? te.encode(v) : v
  return cat([(field << 3) | 2], uvarint(b.length), b)
}
/** Unsigned-varint length prefix, as libp2p's length-prefixed protocols frame messages. */
const lp = (b: Uint8Array): Uint8Array => cat(uvarint(b.length), b)

const PROTOCOLS: Record<Exclude<FuzzTarget, 'unsupported' | 'raw-ws'>, string[]> = {
  hop: ['/libp2p/circuit/relay/0.2.0/hop'],
  gossipsub: ['/meshsub/1.2.0', '/meshsub/1.1.0', '/meshsub/1.0.0'],
  floodsub: ['/floodsub/1.0.0'],
  identify: ['/ipfs/id/1.0.0'],
  ping: ['/ipfs/ping/1.0.0'],
  announcements: [ANNOUNCEMENTS_PROTOCOL],
  scores: [SCORES_PROTOCOL]
}
/** Every protocol the relay is expected to speak (the test checks it does). */
export const RELAY_PROTOCOLS: readonly string[] = Object.values(PROTOCOLS).flat()

/** Share of frames per target, in tenths of a percent (sums to 1000). */
const WEIGHTS: Array<[FuzzTarget, number]> = [['hop', 250], ['gossipsub', 250], ['floodsub', 50], ['identify', 60], ['ping', 100], ['announcements', 40], ['scores', 40], ['unsupported', 60], ['raw-ws', 150]]

async function seeds (rand: () => number): Promise<Record<FuzzTarget, Uint8Array[]>> {
  const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const id = other.toMultihash().bytes
  const ma = multiaddr('/ip4/127.0.0.1/tcp/4001/ws').bytes
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256))
  const topicMsg = pb(2, cat(pb(1, id), pb(2, bytes(120)), pb(3, bytes(8)), pb(4, ANNOUNCE_TOPIC), pb(5, bytes(64)), pb(6, bytes(36))))
  const control = pb(3, cat(pb(1, cat(pb(1, ANNOUNCE_TOPIC), pb(2, bytes(20)))), pb(2, pb(1, bytes(20))), pb(3, pb(1, ANNOUNCE_TOPIC)), pb(4, cat(pb(1, ANNOUNCE_TOPIC), pb(2, pb(1, id)), pb(3, 60))), pb(5, pb(1, bytes(20)))))
  const scoreMsg = pb(2, cat(pb(1, id), pb(2, bytes(261)), pb(3, bytes(8)), pb(4, SCORES_TOPIC), pb(5, bytes(64)), pb(6, bytes(36))))
  const rpc = [
    pb(1, cat(pb(1, 1), pb(2, ANNOUNCE_TOPIC))),
    pb(1, cat(pb(1, 1), pb(2, SCORES_TOPIC))),
    scoreMsg,
    pb(1, cat(pb(1, 1), pb(2, 'not-allowed/topic'))),
    topicMsg,
    control,
    cat(pb(1, cat(pb(1, 0), pb(2, ANNOUNCE_TOPIC))), topicMsg, control)
  ]
  const multistream = cat(lp(te.encode('/multistream/1.0.0\n')), lp(te.encode('/noise\n')))
  return {
    hop: [
      cat(pb(1, 0)), // RESERVE
      cat(pb(1, 1), pb(2, cat(pb(1, id), pb(2, ma)))), // CONNECT to a peer with no reservation
      cat(pb(1, 1), pb(2, cat(pb(1, id))), pb(4, cat(pb(1, 60), pb(2, 1 << 20)))), // CONNECT with a limit
      cat(pb(1, 2), pb(5, 100)) // STATUS, which a relay never receives
    ].map(lp),
    gossipsub: rpc.map(lp),
    floodsub: rpc.map(lp),
    identify: [bytes(40)],
    ping: [bytes(32), bytes(64)],
    announcements: [bytes(8)],
    scores: [bytes(8)],
    unsupported: [bytes(16)],
    'raw-ws': [
      cat(multistream, [0, 32], bytes(32)), // noise XX message 1: a 2-byte length, a 32-byte ephemeral key
      cat(lp(te.encode('/multistream/1.0.0\n')), lp(te.encode('ls\n'))),
      multistream,
      bytes(64)
    ]
  }
}

/** A random frame, or a seed mutated (bytes changed, cut, grown, a length made huge). */
function mutate (seed: Uint8Array, rand: () => number): Uint8Array {
  const r = rand()
  if (r < 0.3) return Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256))
  let b: Uint8Array = seed.slice()
  const op = Math.floor(rand() * 5)
  if (op === 0 || b.length === 0) return b // the seed as is: well-formed input must be fine too
  if (op === 1) for (let k = 0; k < 1 + Math.floor(rand() * 8); k++) b[Math.floor(rand() * b.length)] ^= 1 + Math.floor(rand() * 255)
  if (op === 2) b = b.slice(0, Math.floor(rand() * b.length))
  if (op === 3) { const at = Math.floor(rand() * b.length); b = cat(b.subarray(0, at), Uint8Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)), b.subarray(at)) }
  if (op === 4) b = cat([0xff, 0xff, 0xff, 0x0f], b.subarray(1)) // a length prefix of ~32 MB
  return b
}

/** How long after its answer a relay may take to close its end of the stream. */
const REPLY_END_GRACE_MS = 100

/** Run `promise`-making `f` with a deadline; 'hang' if it does not settle in time. */
async function withDeadline (ms: number, f: (signal: AbortSignal) => Promise<FuzzOutcome>): Promise<FuzzOutcome> {
  const ac = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<FuzzOutcome>(resolve => { timer = setTimeout(() => { ac.abort(); resolve('hang') }, ms) })
  try {
    return await Promise.race([f(ac.signal), late])
  } finally {
    clearTimeout(timer)
  }
}

async function streamFrame (node: Libp2p, relay: Multiaddr, protocol: string, frame: Uint8Array, waitForEnd: boolean, signal: AbortSignal, refusals: Record<string, number>): Promise<FuzzOutcome> {
  let stream
  try {
    // optimistic protocol selection (the frame rides with the proposal) for protocols the
    // relay speaks: one round trip less per frame; our own per-protocol stream limits raised so
    // that the relay's limits are what the frames meet
    stream = await node.dialProtocol(relay, protocol, { signal, negotiateFully: !RELAY_PROTOCOLS.includes(protocol), maxOutboundStreams: 64 })
  } catch (err) {
    if ((err as Error).name === 'UnsupportedProtocolError') return 'unsupported'
    const why = `${(err as Error).name}: ${(err as Error).message.slice(0, 80)}`
    refusals[why] = (refusals[why] ?? 0) + 1
    return 'refused'
  }
  const onAbort = (): void => { stream.abort(new Error('deadline')) }
  signal.addEventListener('abort', onAbort, { once: true })
  // Read from the start: an iterator made after the relay's answer and end would miss the end.
  let got = 0
  let answered = (): void => {}
  const firstBytes = new Promise<void>(resolve => { answered = resolve })
  const reading = (async (): Promise<'ended'> => {
    for await (const chunk of stream) { got += chunk.byteLength; answered() }
    return 'ended'
  })()
  reading.catch(() => {})
  try {
    if (frame.length > 0 && !stream.send(frame)) await stream.onDrain({ signal })
    await stream.close({ signal })
    if (!waitForEnd) { stream.abort(new Error('done')); return 'sent' }
    // The circuit-relay server answers a refused request (NO_RESERVATION, MALFORMED_MESSAGE…)
    // and leaves its end open for the client to close: an answer without an end is not a hang.
    const how = await Promise.race([reading, firstBytes.then(async () => { await new Promise(resolve => setTimeout(resolve, REPLY_END_GRACE_MS)); return 'open' as const })])
    if (how === 'open') { stream.abort(new Error('done')); return 'reply-open' }
    return got > 0 ? 'reply' : 'closed'
  } catch {
    return 'reset'
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

async function rawFrame (url: string, frame: Uint8Array, signal: AbortSignal): Promise<FuzzOutcome> {
  return await new Promise<FuzzOutcome>(resolve => {
    const ws = new WebSocket(url)
    ws.binaryType = 'arraybuffer'
    let sent = false
    const done = (o: FuzzOutcome): void => {
      signal.removeEventListener('abort', onAbort)
      try { ws.close() } catch { /* already closed */ }
      resolve(o)
    }
    const onAbort = (): void => { done('hang') }
    signal.addEventListener('abort', onAbort, { once: true })
    ws.onerror = () => { done(sent ? 'reset' : 'refused') }
    ws.onclose = () => { done(sent ? 'closed' : 'refused') }
    ws.onopen = () => {
      ws.send(new Uint8Array(frame))
      sent = true
      // give the relay a moment to react; then hang up ourselves (it may be waiting for more)
      setTimeout(() => { done('sent') }, 20)
    }
  })
}

/** Fuzz the relay at `relayAddr`. @throws {RelayFuzzError} when a liveness check fails. */
export async function fuzzRelay (opts: RelayFuzzOptions): Promise<RelayFuzzReport> {
  const rand = prng(opts.seed ?? 20261125)
  const deadlineMs = opts.deadlineMs ?? 5000
  const checkEvery = opts.checkEvery ?? 1000
  const relay = multiaddr(opts.relayAddr)
  const parts = relay.getComponents()
  const wsUrl = `ws://${parts.find(c => c.name === 'ip4' || c.name === 'dns4')?.value ?? '127.0.0.1'}:${parts.find(c => c.name === 'tcp')?.value ?? ''}`
  const seedFrames = await seeds(rand)
  const base = { transports: [webSockets()], connectionEncrypters: [noise()], streamMuxers: [yamux()], connectionGater: { denyDialMultiaddr: () => false } }
  // No services on the fuzzing node: a protocol it handled itself would cap its outbound
  // streams for that protocol, and the frames are to meet the relay's limits, not ours.
  const node = await createLibp2p(base)
  // The liveness checks use a connection of their own: the fuzzing connection's streams
  // may hold every slot the relay allows a peer for ping.
  const observer: Libp2p<{ identify: unknown, ping: Ping }> = await createLibp2p({ ...base, services: { identify: identify(), ping: ping({ maxOutboundStreams: 4 }) } }) // a timed-out ping's stream may not be closed yet when the next starts
  let reconnects = -1
  node.addEventListener('connection:open', () => { reconnects++ })
  const targets: Record<string, Partial<Record<FuzzOutcome, number>>> = {}
  const spent: Record<string, number> = {}
  const refusals: Record<string, number> = {}
  let hangs = 0
  let maxFrameMs = 0
  let checks = 0
  let maxCheckMs = 0
  let next = 0
  let done = 0
  const t0 = performance.now()
  const weights = WEIGHTS.filter(([t]) => opts.only === undefined || opts.only.includes(t))
  const total = weights.reduce((a, [, w]) => a + w, 0)
  const pick = (): FuzzTarget => {
    let r = Math.floor(rand() * total)
    for (const [t, w] of weights) { if (r < w) return t; r -= w }
    return weights[0][0]
  }
  const checkAttempts = opts.checkAttempts ?? 4
  let slowChecks = 0
  const checkRetries: Record<string, number> = {}
  const attempt = async (): Promise<void> => {
    let step = 'a ping'
    try {
      await observer.services.ping.ping(relay, { signal: AbortSignal.timeout(deadlineMs) })
      step = 'GET /health'
      const res = await fetch(opts.healthUrl, { signal: AbortSignal.timeout(deadlineMs) })
      if (res.status !== 200) throw new Error(`/health answered ${res.status}`)
      await res.json()
    } catch (err) { throw new Error(`${step}: ${(err as Error).message}`, { cause: err }) }
  }
  const checkOnce = async (): Promise<void> => {
    const c0 = performance.now()
    const failed: string[] = []
    for (let a = 0; a < checkAttempts; a++) {
      try {
        await attempt()
        if (a > 0) {
          slowChecks++
          for (const why of failed) checkRetries[why] = (checkRetries[why] ?? 0) + 1
        }
        checks++
        maxCheckMs = Math.max(maxCheckMs, performance.now() - c0)
        return
      } catch (err) {
        failed.push((err as Error).message)
        await new Promise(resolve => setTimeout(resolve, 250 * (a + 1)))
      }
    }
    throw new RelayFuzzError(`after ${done} frames the relay no longer answers within ${deadlineMs} ms, ${checkAttempts} attempts in ${Math.round(performance.now() - c0)} ms: ${failed.join('; ')}`)
  }
  let checking: Promise<void> = Promise.resolve() // one check at a time: a lane may reach the next multiple while one runs
  const check = async (): Promise<void> => { const run = checking.then(checkOnce); checking = run.catch(() => {}); await run }
  const lane = async (): Promise<void> => {
    while (next < opts.frames) {
      const i = next++
      const target = pick()
      const pool = seedFrames[target]
      const frame = mutate(pool[Math.floor(rand() * pool.length)], rand)
      const f0 = performance.now()
      let outcome: FuzzOutcome
      if (target === 'raw-ws') outcome = await withDeadline(deadlineMs, async signal => await rawFrame(wsUrl, frame, signal))
      else {
        const protocol = target === 'unsupported'
          ? ['/libp2p/circuit/relay/0.2.0/stop', '/ipfs/id/push/1.0.0', `/fuzz/${Math.floor(rand() * 1e6)}/1.0.0`][i % 3]
          : PROTOCOLS[target][i % PROTOCOLS[target].length]
        const waitForEnd = target !== 'gossipsub' && target !== 'floodsub' // a pubsub peer keeps its inbound stream open
        outcome = await withDeadline(deadlineMs, async signal => await streamFrame(node, relay, protocol, frame, waitForEnd, signal, refusals))
      }
      const ms = performance.now() - f0
      maxFrameMs = Math.max(maxFrameMs, ms)
      spent[target] = (spent[target] ?? 0) + ms
      if (outcome === 'hang') hangs++
      const t = (targets[target] ??= {})
      t[outcome] = (t[outcome] ?? 0) + 1
      done++
      if (done % checkEvery === 0) await check()
      opts.onProgress?.(done, opts.frames)
    }
  }
  try {
    await node.dial(relay)
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, lane))
    await check()
  } finally {
    await node.stop()
    await observer.stop()
  }
  const meanMs = Object.fromEntries(Object.entries(spent).map(([t, ms]) => [t, Math.round(ms / Object.values(targets[t]).reduce((a, b) => a + b, 0) * 10) / 10]))
  return { frames: done, seconds: Math.round((performance.now() - t0) / 100) / 10, targets, refusals, meanMs, hangs, maxFrameMs: Math.round(maxFrameMs), checks, maxCheckMs: Math.round(maxCheckMs), slowChecks, checkRetries, reconnects: Math.max(0, reconnects) }
}
