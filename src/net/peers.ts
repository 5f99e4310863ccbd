/**
 * Making libp2p nodes for Cerberus, outside React and outside the core — one
 * configuration for browsers and Node: WebSockets, noise + yamux, identify and ping.
 * Node peers (miners, users in tools) may listen on WebSockets so browsers can dial them
 * directly. Loopback and private addresses are allowed (tests and local meshes live there).
 */
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import type { Libp2p } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'

/** Options of {@link createPeer}. */
export interface NodePeerOptions {
  /** Listen on 127.0.0.1:port over WebSockets (0 = any free port); omit to only dial. */
  readonly listenPort?: number
  readonly host?: string
}

/** A Cerberus libp2p peer (listening only when `listenPort` is given, which needs Node). */
export async function createPeer (opts: NodePeerOptions = {}): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen: opts.listenPort === undefined ? [] : [`/ip4/${opts.host ?? '127.0.0.1'}/tcp/${opts.listenPort}/ws`] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    connectionManager: { dialTimeout: 10_000 },
    services: { identify: identify(), ping: ping() }
  })
}

/** A Node peer: {@link createPeer}, named for the call sites that listen. */
export const createNodePeer = createPeer
