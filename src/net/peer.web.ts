/**
 * A browser libp2p peer: the configuration of every Cerberus peer (peer.ts) plus WebRTC
 * (browser↔browser, direct once connected) and the circuit-relay transport (the relay
 * carries only the WebRTC handshake). Create it outside React (a module-level or
 * store-held instance), so StrictMode's double mount cannot start two nodes.
 *
 * ICE servers default to none: on loopback and LANs host candidates suffice, and the
 * default configuration would contact public STUN servers. Users behind NAT pass their
 * own (`iceServers`).
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { webRTC } from '@libp2p/webrtc'
import type { PrivateKey } from '@libp2p/interface'
import { WebRTC } from '@multiformats/multiaddr-matcher'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { CerberusError } from '../core/errors.ts'
import { peerConfig, type CerberusPeer } from './peer.ts'

/** Options of {@link createWebPeer}. */
export interface WebPeerOptions {
  /**
   * Be reachable by other browsers: listen on `/p2p-circuit` (a reservation on the relay)
   * and `/webrtc`. Donors (browser miners) need it; users who only dial do not.
   */
  readonly reachable?: boolean
  /** STUN/TURN servers for WebRTC; default none (see above). */
  readonly iceServers?: RTCIceServer[]
  readonly privateKey?: PrivateKey
}

/** Start a browser peer. */
export async function createWebPeer (opts: WebPeerOptions = {}): Promise<CerberusPeer> {
  return await createLibp2p(peerConfig({
    privateKey: opts.privateKey,
    extraTransports: [webRTC({ rtcConfiguration: { iceServers: opts.iceServers ?? [] } }), circuitRelayTransport()],
    extraListen: opts.reachable === true ? ['/p2p-circuit', '/webrtc'] : []
  }))
}

/** The peer's `/p2p-circuit/webrtc` addresses (what other browsers dial). */
export function webrtcAddrs (node: CerberusPeer): Multiaddr[] {
  return node.getMultiaddrs().filter(ma => WebRTC.matches(ma))
}

/** Wait until the peer has a WebRTC address (after a relay reservation); reject after `timeoutMs`. */
export async function waitForWebrtcAddr (node: CerberusPeer, timeoutMs = 15_000): Promise<Multiaddr[]> {
  const t0 = Date.now()
  for (;;) {
    const a = webrtcAddrs(node)
    if (a.length > 0) return a
    if (Date.now() - t0 > timeoutMs) throw new CerberusError('NO_RELAY_RESERVATION', `no WebRTC address after ${timeoutMs} ms: is the relay reachable? (addresses: ${node.getMultiaddrs().join(', ') || 'none'})`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}
