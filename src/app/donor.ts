/**
 * "Donate my GPU": this tab as a miner. One switch starts a reachable browser peer (a
 * relay reservation, so users can open a direct WebRTC connection to it), a pool of HE
 * miner Web Workers (the CPU budget), the miner service for the model, and announcements
 * on the mesh. The tab never sees a key or a plaintext: it multiplies public weights into
 * ciphertexts.
 *
 * Honesty: the work runs on the CPU (WebAssembly in workers). WebGPU availability is
 * reported, not used — the GPU path comes later.
 */
import { createStore } from 'zustand/vanilla'
import { multiaddr } from '@multiformats/multiaddr'
import { SECURE_PRESETS } from '../core/he/params.ts'
import { squeezeModel } from '../core/squeeze/squeeze.ts'
import { createWebPeer, waitForWebrtcAddr, webrtcAddrs } from '../net/peer.web.ts'
import { keepConnected, type KeepConnected } from '../net/dial.ts'
import { startAnnouncing, type Announcer } from '../net/discovery/index.ts'
import { startMinerService, type MinerService } from '../net/miner-service.ts'
import type { CerberusPeer } from '../net/peer.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createMinerPool, type MinerPool } from '../workers/he-pool.ts'
import { spawnWebHeWorker } from '../workers/he-port.web.ts'
import { loadModelSource } from './model-source.ts'
import { publicError } from './peer-view.ts'
import type { Donor, DonorState, ModelSource } from './types.ts'

/** Options of {@link createDonor}. */
export interface DonorOptions {
  readonly relay: string
  readonly iceServers?: RTCIceServer[]
  /** The model this tab serves (default: the app's default model). */
  readonly model?: ModelSource
  readonly modelBase?: string
  /** Announcement interval (ms); default the discovery module's. */
  readonly announceIntervalMs?: number
  readonly spawnHeWorker?: typeof spawnWebHeWorker
}

/** Throughput chart: one sample every 2 s, one minute kept. */
const SAMPLE_MS = 2000
const SAMPLES = 30

async function webgpuAvailable (): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter: () => Promise<unknown> } }).gpu
  if (gpu === undefined) return false
  try {
    return (await gpu.requestAdapter()) !== null
  } catch {
    return false
  }
}

/** A donor (nothing runs until `start`). */
export function createDonor (opts: DonorOptions): Donor {
  const initial: DonorState = { status: 'off', workers: 0, jobs: 0, failed: 0, bytesIn: 0, bytesOut: 0, computeMs: 0, throughput: [], device: 'cpu', webgpuAvailable: false }
  const store = createStore<DonorState>(() => initial)
  const set = (s: Partial<DonorState>): void => { store.setState(s) }
  let peer: CerberusPeer | undefined
  let pool: MinerPool | undefined
  let service: MinerService | undefined
  let announcer: Announcer | undefined
  let relayWatch: KeepConnected | undefined
  let sampler: ReturnType<typeof setInterval> | undefined
  let lastJobs = 0
  void webgpuAvailable().then(ok => { set({ webgpuAvailable: ok }) })

  const teardown = async (): Promise<void> => {
    if (sampler !== undefined) clearInterval(sampler)
    sampler = undefined
    announcer?.stop()
    relayWatch?.stop()
    await service?.stop()
    pool?.close()
    await peer?.stop()
    announcer = undefined
    relayWatch = undefined
    service = undefined
    pool = undefined
    peer = undefined
  }

  return {
    getState: store.getState,
    subscribe: (listener) => store.subscribe(listener),
    async start ({ workers }) {
      if (store.getState().status !== 'off' && store.getState().status !== 'error') return
      set({ status: 'starting', error: undefined, workers })
      try {
        const model = await loadModelSource(opts.model ?? { kind: 'default' }, { base: opts.modelBase ?? '/models/default/' })
        const sq = squeezeModel(model.ckpt)
        const privateKey = await generateKeyPair('Ed25519')
        const node = await createWebPeer({ reachable: true, iceServers: opts.iceServers, privateKey })
        peer = node
        relayWatch = keepConnected(node, multiaddr(opts.relay))
        await waitForWebrtcAddr(node)
        pool = createMinerPool({ spawn: opts.spawnHeWorker ?? spawnWebHeWorker, size: workers })
        const svc = await startMinerService(node, sq, pool)
        service = svc
        announcer = startAnnouncing(node, privateKey, () => ({
          role: 'miner' as const,
          addrs: webrtcAddrs(node).map(String),
          model: { name: model.name, sha256: model.sha256 },
          presets: SECURE_PRESETS.map(p => p.name),
          capacity: svc.paused ? 0 : workers,
          load: svc.queued
        }), opts.announceIntervalMs === undefined ? {} : { intervalMs: opts.announceIntervalMs })
        lastJobs = 0
        sampler = setInterval(() => {
          const st = svc.stats
          const rate = (st.jobs - lastJobs) / (SAMPLE_MS / 1000)
          lastJobs = st.jobs
          set({ jobs: st.jobs, failed: st.failed, bytesIn: st.bytesIn, bytesOut: st.bytesOut, computeMs: st.computeMs, throughput: [...store.getState().throughput, rate].slice(-SAMPLES) })
        }, SAMPLE_MS)
        set({ status: 'on', peerId: node.peerId.toString() })
      } catch (err) {
        await teardown().catch(() => {})
        set({ status: 'error', error: publicError(err) })
        throw err
      }
    },
    pause () {
      if (service === undefined) return
      service.paused = true
      void announcer?.announceNow()
      set({ status: 'paused' })
    },
    resume () {
      if (service === undefined) return
      service.paused = false
      void announcer?.announceNow()
      set({ status: 'on' })
    },
    async stop () {
      await teardown()
      set({ status: 'off', peerId: undefined })
    }
  }
}
