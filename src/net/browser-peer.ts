/**
 * A browser libp2p peer: WebSockets (to reach relays and headless miners directly), noise,
 * yamux, identify, ping. Created outside React (a module-level or store-held instance),
 * so StrictMode's double mount cannot start two nodes. WebRTC between browsers comes with
 * the browser-to-browser mesh.
 */
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import type { Libp2p } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'

/** Start a browser peer that dials out (it does not listen). */
export async function createBrowserPeer (): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen: [] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // Local meshes and tests live on loopback and private addresses.
    connectionGater: { denyDialMultiaddr: () => false },
    connectionManager: { dialTimeout: 10_000 },
    services: { identify: identify(), ping: ping() }
  })
}
