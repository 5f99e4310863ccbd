/**
 * The browser's components for the app's roles: a WebRTC-capable libp2p peer, HE workers
 * as module Web Workers (a donor's with a GPU runtime: onnxruntime-web's WebGPU EP, loaded
 * when the donor asks), models fetched from the page's origin (or picked files), and
 * whether this browser offers WebGPU. Pages, the widget and the browser benchmarks build
 * their client and donor with these; tests in Node inject their own.
 */
import { createWebPeer, waitForWebrtcAddr, webrtcAddrs } from '../net/peer.web.ts'
import { spawnWebHeWorker, spawnWebMinerWorker } from '../workers/he-port.web.ts'
import type { HePortFactory } from '../workers/index.ts'
import type { ClientComponents } from './client.ts'
import type { DonorComponents } from './donor.ts'
import { loadModelSource } from './model-source.web.ts'

/** Browser options shared by the client and the donor. */
export interface WebPlatformOptions {
  /** STUN/TURN servers for WebRTC (default none: loopback and LANs need none). */
  readonly iceServers?: RTCIceServer[]
  /** Where the default model's files are (default `/models/default/`). */
  readonly modelBase?: string
  /**
   * Starts an HE worker (default: a module Web Worker of this origin — for a donor the miner
   * worker with the GPU runtime; the widget brings its own).
   */
  readonly spawnHeWorker?: HePortFactory
  /**
   * Local mode's engine (the page passes `workerLocalGeneration` from
   * local-generation.web.ts, a Web Worker; it is not the default so that bundles which never
   * generate locally — the widget — do not carry the worker).
   */
  readonly localGeneration?: ClientComponents['localGeneration']
}

/** A user's components in a browser tab. */
export function webClientComponents (opts: WebPlatformOptions = {}): ClientComponents {
  return {
    createPeer: async (privateKey) => await createWebPeer({ iceServers: opts.iceServers, privateKey }),
    spawnHeWorker: opts.spawnHeWorker ?? spawnWebHeWorker,
    loadModel: async (source, onProgress) => await loadModelSource(source, { base: opts.modelBase ?? '/models/default/', onProgress }),
    ...(opts.localGeneration === undefined ? {} : { localGeneration: opts.localGeneration })
  }
}

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
