/**
 * The Cerberus relay: a libp2p node that only helps peers find and reach each other.
 *
 * - WebSockets listener (browsers and Node peers dial it);
 * - circuit-relay-v2 server, so browsers can exchange the WebRTC handshake through it —
 *   relayed connections are limited (2 minutes, 128 KiB) so that job traffic cannot flow
 *   through the relay: it relays handshakes, not jobs;
 * - gossipsub, so miner announcements reach every peer: the relay subscribes to the
 *   announcement topic (a gossipsub router forwards only topics it subscribes to) and
 *   validates every record before forwarding it; it never announces itself. It keeps the
 *   latest records and hands them to each peer that connects, so a fresh user sees the
 *   miners at once (src/net/discovery/index.ts); likewise for validators' signed score
 *   records (`/cerberus/scores/1`): it validates them (signature, age, replays, rate per
 *   validator, models no announced miner serves) and serves the latest to newcomers
 *   (src/net/scores/index.ts);
 * - identify and ping;
 * - a stable identity from a key file (created on first start), so peers can keep its
 *   address;
 * - `GET /health` on a separate loopback HTTP port: JSON with peer count, reservations,
 *   announced peers, records refused, memory, uptime.
 */
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { circuitRelayServer, type CircuitRelayService } from '@libp2p/circuit-relay-v2'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'
import { CerberusError } from '../src/core/errors.ts'
import { ANNOUNCE_TOPIC, createPeerTable, serveAnnouncements, type AnnouncementRejection } from '../src/net/discovery/index.ts'
import { PEER_LIMITS, peerConfig } from '../src/net/peer.ts'
import { createScoreBook, serveScores, SCORES_TOPIC, type ScoreRejection } from '../src/net/scores/index.ts'

/** The relay could not start (port in use, unreadable key file, ...). */
export class RelayError extends CerberusError {
  constructor (message: string, cause?: unknown) {
    super('RELAY', message, { cause })
  }
}

/**
 * Limits, and why.
 * - Reservations: one per browser that wants to be reachable; each costs the relay a
 *   little state. 1,024 is far above what a 2-core relay's users need at once and bounds
 *   its memory.
 * - Relayed connections: 2 minutes and 128 KiB each, enough for a WebRTC handshake (a few
 *   KiB), far too little for encrypted inference (~0.5 MiB per token on stories260K).
 * - Connections: 512 in total, and at most 5 new inbound connections per second per host,
 *   so one misbehaving peer cannot exhaust the relay.
 * - Handshakes in progress: 64. libp2p's default of 10 refused 289 of 500 peers arriving
 *   32 at a time (bench relay); and since an unfinished handshake holds its slot for the
 *   10 s upgrade timeout, one host at 5 connections a second can hold at most 50 slots —
 *   with 10, a single host could lock everyone else out.
 * - Pubsub messages: announcements are < 1 KiB; anything above 64 KiB is dropped. Only the
 *   announcement and score topics are accepted: subscriptions to other topics would cost
 *   the relay state and forwarding for nothing.
 */
export const RELAY_LIMITS = Object.freeze({
  maxReservations: 1024,
  relayedDurationMs: 2 * 60 * 1000,
  relayedDataBytes: 128n * 1024n,
  maxConnections: 512,
  inboundConnectionThreshold: 5,
  maxIncomingPendingConnections: 64,
  maxPubsubMessageBytes: PEER_LIMITS.maxPubsubMessageBytes
})

/** Options of {@link startRelay}. */
export interface RelayOptions {
  /** WebSockets port (0 = any free port). Default 9090. */
  readonly port?: number
  /** Port of the `/health` HTTP endpoint (0 = any free port). Default port + 1. */
  readonly healthPort?: number
  /** Listen address; default 127.0.0.1. */
  readonly host?: string
  /** Where the relay's private key lives; created if absent. Without it, a fresh identity per start. */
  readonly keyFile?: string
  /**
   * New inbound connections per second per host (default RELAY_LIMITS'). Only tests and
   * benchmarks, whose hundreds of peers all come from 127.0.0.1, raise it.
   */
  readonly inboundConnectionThreshold?: number
}

/** A running relay. */
export interface Relay {
  readonly peerId: string
  /** Dialable addresses, e.g. /ip4/127.0.0.1/tcp/9090/ws/p2p/12D3… */
  readonly multiaddrs: string[]
  readonly healthUrl: string
  /** What `/health` reports. */
  health: () => RelayHealth
  stop: () => Promise<void>
}

/** The `/health` document. */
export interface RelayHealth {
  readonly status: 'ok'
  readonly peerId: string
  readonly peers: number
  readonly reservations: number
  readonly uptimeSeconds: number
  readonly addresses: string[]
  /** Peers announced on the mesh now, and records validated since the start. */
  readonly announcements: { readonly peers: number, readonly miners: number, readonly accepted: number, readonly rejected: Readonly<Record<AnnouncementRejection, number>> }
  /** Validators' score records held now, and records validated since the start. */
  readonly scores: { readonly records: number, readonly validators: number, readonly accepted: number, readonly rejected: Readonly<Record<ScoreRejection, number>> }
  /** The relay process's memory (bytes). */
  readonly memory: { readonly rss: number, readonly heapUsed: number }
}

async function loadKey (keyFile: string | undefined): Promise<PrivateKey> {
  if (keyFile === undefined) return await generateKeyPair('Ed25519')
  if (existsSync(keyFile)) {
    try {
      return privateKeyFromProtobuf(new Uint8Array(await readFile(keyFile)))
    } catch (err) {
      throw new RelayError(`the key file ${keyFile} is not a libp2p private key (${(err as Error).message}); remove it to create a new identity`, err)
    }
  }
  const key = await generateKeyPair('Ed25519')
  await writeFile(keyFile, privateKeyToProtobuf(key), { mode: 0o600 })
  return key
}

/** Start a relay. @throws {RelayError} when a port is taken or the key file is bad. */
export async function startRelay (opts: RelayOptions = {}): Promise<Relay> {
  const host = opts.host ?? '127.0.0.1'
  const port = opts.port ?? 9090
  const privateKey = await loadKey(opts.keyFile)
  const started = Date.now()
  let node
  try {
    // The configuration every Cerberus peer uses, plus the circuit-relay server and the relay's limits.
    node = await createLibp2p(peerConfig({
      privateKey,
      host,
      listenPort: port,
      connectionManager: { maxConnections: RELAY_LIMITS.maxConnections, inboundConnectionThreshold: opts.inboundConnectionThreshold ?? RELAY_LIMITS.inboundConnectionThreshold, maxIncomingPendingConnections: RELAY_LIMITS.maxIncomingPendingConnections },
      allowedTopics: [ANNOUNCE_TOPIC, SCORES_TOPIC],
      extraServices: {
        relay: circuitRelayServer({
          reservations: {
            maxReservations: RELAY_LIMITS.maxReservations,
            defaultDurationLimit: RELAY_LIMITS.relayedDurationMs,
            defaultDataLimit: RELAY_LIMITS.relayedDataBytes
          }
        })
      }
    }))
  } catch (err) {
    const msg = (err as Error).message
    throw new RelayError(/EADDRINUSE|address already in use/i.test(msg) ? `port ${port} is already in use; pick another with --port` : `the relay could not start: ${msg}`, err)
  }
  const relay = node.services.relay as CircuitRelayService
  const table = createPeerTable(node)
  const scores = createScoreBook(node, { knownModel: sha => table.list().some(p => p.role === 'miner' && p.model?.sha256 === sha) })
  const stopServing = await serveAnnouncements(node, table)
  const stopServingScores = await serveScores(node, scores)
  const health = (): RelayHealth => ({
    status: 'ok',
    peerId: node.peerId.toString(),
    peers: node.getPeers().length,
    reservations: relay.reservations.size,
    uptimeSeconds: Math.round((Date.now() - started) / 1000),
    addresses: node.getMultiaddrs().map(String),
    announcements: { peers: table.list().length, miners: table.list().filter(p => p.role === 'miner').length, accepted: table.stats.accepted, rejected: { ...table.stats.rejected } },
    scores: { records: scores.list().length, validators: new Set(scores.list().map(r => r.validatorId)).size, accepted: scores.stats.accepted, rejected: { ...scores.stats.rejected } },
    memory: { rss: process.memoryUsage.rss(), heapUsed: process.memoryUsage().heapUsed }
  })
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'access-control-allow-origin': '*' }).end(JSON.stringify(health()))
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('the relay serves only GET /health\n')
    }
  })
  const healthPort = opts.healthPort ?? (port === 0 ? 0 : port + 1)
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new RelayError(err.code === 'EADDRINUSE' ? `health port ${healthPort} is already in use; pick another with --health-port` : `the health endpoint could not start: ${err.message}`, err))
    })
    server.listen(healthPort, host, resolve)
  }).catch(async (err: unknown) => {
    table.stop()
    scores.stop()
    await node.stop()
    throw err
  })
  const addr = server.address()
  const boundHealth = typeof addr === 'object' && addr !== null ? addr.port : healthPort
  return {
    peerId: node.peerId.toString(),
    multiaddrs: node.getMultiaddrs().map(String),
    healthUrl: `http://${host}:${boundHealth}/health`,
    health,
    async stop () {
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
      table.stop()
      scores.stop()
      await stopServing()
      await stopServingScores()
      await node.stop()
    }
  }
}
