/**
 * A donor's components in a browser tab: a peer reachable over WebRTC through the relay,
 * miner workers with a GPU runtime (he-miner.worker.web.ts: onnxruntime-web's WebGPU EP,
 * imported when the donor asks), models from the page's origin, and whether this browser
 * offers WebGPU. Apart from platform.web.ts so that bundles with only a user's client (the
 * widget) do not emit the miner worker and onnxruntime-web's 27 MB of WebAssembly.
 */
import { createWebPeer, waitForWebrtcAddr, webrtcAddrs } from '../net/peer.web.ts'
import { spawnWebMinerWorker } from '../workers/he-miner-port.web.ts'
import type { DonorComponents } from './donor.ts'
import { loadModelSource } from './model-source.web.ts'
import type { WebPlatformOptions } from './platform.web.ts'

/** Whether this browser has a WebGPU adapter. */
export async function webgpuAvailable (): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter: () => Promise<unknown> } }).gpu
  if (gpu === undefined) return false
  try {
    return (await gpu.requestAdapter()) !== null
  } catch {
    return false
  }
}

/** A donor's components in a browser tab: reachable over WebRTC through the relay; its workers may use WebGPU. */
export function webDonorComponents (opts: WebPlatformOptions = {}): DonorComponents {
  return {
    createPeer: async (privateKey) => {
      const peer = await createWebPeer({ reachable: true, iceServers: opts.iceServers, privateKey })
      return { peer, ready: async () => { await waitForWebrtcAddr(peer) }, addrs: () => webrtcAddrs(peer).map(String) }
    },
    spawnHeWorker: opts.spawnHeWorker ?? spawnWebMinerWorker,
    loadModel: async (source, onProgress) => await loadModelSource(source, { base: opts.modelBase ?? '/models/default/', onProgress }),
    webgpuAvailable
  }
}
