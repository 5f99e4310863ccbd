/**
 * Making libp2p nodes for Cerberus — one configuration for every platform: WebSockets,
 * noise + yamux, identify, ping and gossipsub (the `pubsub` service: announcements). The
 * platforms differ only in what they add to it:
 * - Node peers (miners, validators, users in tools) may listen on WebSockets so browsers
 *   can dial them directly: {@link createPeer} with `listenPort`;
 * - browsers add WebRTC and the circuit-relay transport: peer.web.ts;
 * - the relay adds the circuit-relay server and its own limits: signaling-server/relay.ts.
 * Loopback and private addresses are allowed (tests and local meshes live there).
 */
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { createLibp2p, type Libp2pOptions, type ServiceFactoryMap } from 'libp2p'

/**
 * Bounds of a peer, and why.
 * - dialTimeoutMs: one attempt at a connection (a WebRTC dial through the relay took up to
 *   ~0.6 s median and a few seconds at worst on a loaded 2-core machine; 8 s catches the
 *   rare hang, see dialWithRetry).
 * - addressDialTimeoutMs: per address; libp2p's default 6 s was exceeded once by
 *   WebRTC-through-relay (SDP over the circuit + ICE + noise) on a loaded machine.
 * - maxPubsubMessageBytes: announcements are < 1 KiB.
 * - gossipsub's IP colocation penalty is off (see the gossipsub options below): past ~11
 *   peers on loopback every peer's score fell below the gossip threshold and the relay's
 *   mesh emptied (measured here: 14 loopback peers, no message delivered at all).
 */
export const PEER_LIMITS = Object.freeze({
  dialTimeoutMs: 8_000,
  addressDialTimeoutMs: 10_000,
  maxPubsubMessageBytes: 64 * 1024
})

/** The services every Cerberus peer runs. */
export interface PeerServices {
  identify: unknown
  ping: unknown
  pubsub: GossipSub
  [key: string]: unknown
}

/** A Cerberus peer. */
export type CerberusPeer = Libp2p<PeerServices>

/** Options of {@link createPeer}. */
export interface NodePeerOptions {
  /** Listen on host:port over WebSockets (0 = any free port); omit to only dial. Node only. */
  readonly listenPort?: number
  readonly host?: string
  /** The peer's identity (a fresh Ed25519 key when omitted). */
  readonly privateKey?: PrivateKey
}

/** What a platform adds to the shared configuration. */
export interface PeerConfigOptions extends NodePeerOptions {
  readonly extraTransports?: Array<NonNullable<Libp2pOptions['transports']>[number]>
  readonly extraListen?: string[]
  /** Overrides of the connection manager's settings (the relay's limits). */
  readonly connectionManager?: NonNullable<Libp2pOptions['connectionManager']>
  /** Only these gossipsub topics are accepted (the relay: the topics it serves); default any. */
  readonly allowedTopics?: string[]
}

/**
 * The configuration shared by every Cerberus peer (browser, Node, relay); `extraServices`
 * are added to identify, ping and pubsub (the relay's circuit-relay server).
 */
export function peerConfig<S extends Record<string, unknown> = Record<never, never>> (opts: PeerConfigOptions & { readonly extraServices?: ServiceFactoryMap<S> } = {}): Libp2pOptions<PeerServices & S> {
  const listen = [...(opts.listenPort === undefined ? [] : [`/ip4/${opts.host ?? '127.0.0.1'}/tcp/${opts.listenPort}/ws`]), ...(opts.extraListen ?? [])]
  return {
    ...(opts.privateKey === undefined ? {} : { privateKey: opts.privateKey }),
    addresses: { listen },
    transports: [webSockets(), ...(opts.extraTransports ?? [])],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // Peers here are on loopback / private addresses: allow dialling them.
    connectionGater: { denyDialMultiaddr: () => false },
    connectionManager: { dialTimeout: PEER_LIMITS.dialTimeoutMs * 2, addressDialTimeout: PEER_LIMITS.addressDialTimeoutMs, ...opts.connectionManager },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        maxInboundDataLength: PEER_LIMITS.maxPubsubMessageBytes,
        // No IP-colocation penalty (gossipsub's P6): it keeps a departed peer's IP for the hour
        // it retains its score, and past 10 peers on one IP scores every peer there down until
        // it is ignored — honest meshes share IPs (one NAT, one host running several miners,
        // loopback), and chaos found the relay deaf after a dozen miner restarts. Announcements
        // are signed and validated instead.
        scoreParams: { IPColocationFactorWeight: 0 },
        ...(opts.allowedTopics === undefined ? {} : { allowedTopics: opts.allowedTopics })
      }),
      ...opts.extraServices
    } as ServiceFactoryMap<PeerServices & S>
  }
}

/** A Cerberus libp2p peer (listening only when `listenPort` is given, which needs Node). */
export async function createPeer (opts: NodePeerOptions = {}): Promise<CerberusPeer> {
  return await createLibp2p(peerConfig(opts))
}
