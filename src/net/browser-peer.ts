/**
 * A browser libp2p peer: the same configuration as every Cerberus peer (peers.ts), dialing
 * out only. Create it outside React (a module-level or store-held instance), so
 * StrictMode's double mount cannot start two nodes. WebRTC between browsers comes with the
 * browser-to-browser mesh.
 */
import type { Libp2p } from '@libp2p/interface'
import { createPeer } from './peers.ts'

/** Start a browser peer that dials out (it does not listen). */
export async function createBrowserPeer (): Promise<Libp2p> {
  return await createPeer()
}
