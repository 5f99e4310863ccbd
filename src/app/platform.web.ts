/**
 * The browser's components for a user's client: a WebRTC-capable libp2p peer, HE workers
 * as module Web Workers, models fetched from the page's origin (or picked files). Pages,
 * the widget and the browser benchmarks build their client with these; a donor's are in
 * platform-donor.web.ts (its worker brings the GPU runtime, which the widget must not
 * bundle); tests in Node inject their own.
 */
import { createWebPeer } from '../net/peer.web.ts'
import { spawnWebHeWorker } from '../workers/he-port.web.ts'
import type { HePortFactory } from '../workers/index.ts'
import type { ClientComponents } from './client.ts'
import { loadModelSource } from './model-source.web.ts'

/** Browser options shared by the client and the donor. */
export interface WebPlatformOptions {
  /** STUN/TURN servers for WebRTC (default none: loopback and LANs need none). */
  readonly iceServers?: RTCIceServer[]
  /** Where the default model's files are (default `/models/default/`). */
  readonly modelBase?: string
  /**
   * Starts an HE worker (default: a module Web Worker of this origin — for a donor the miner
   * worker with the GPU runtime, platform-donor.web.ts; the widget brings its own).
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
