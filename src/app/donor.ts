/**
 * "Donate my GPU": this tab as a miner. One switch starts a reachable peer (a relay
 * reservation, so users can open a direct WebRTC connection to it), a pool of HE miner
 * workers (the CPU budget) and the {@link startMinerNode miner node} for the model. The
 * tab never sees a key or a plaintext: it multiplies public weights into ciphertexts.
 * State is a zustand vanilla store (`store`) that the UI's hooks select from.
 *
 * The GPU (issue 13): where the browser has WebGPU, each worker runs the start-up
 * self-test (a known job, word for word against the WebAssembly kernel) and, if it passes,
 * computes every job's multiply-accumulate on the GPU; otherwise the donor computes on the
 * CPU and says why. SEAL's NTTs and key switches stay on the CPU, so the panel shows both
 * times per job. A GPU lost mid-job hands that job to the CPU (nothing is lost); a GPU that
 * passes the self-test and later lies is caught by the user's Freivalds check, which drops
 * this donor like any other liar.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createStore } from 'zustand/vanilla'
import { quantizeModelAsync } from '../core/model/index.ts'
import { squeezeModel } from '../core/squeeze/index.ts'
import type { CerberusPeer } from '../net/peer.ts'
import { createMinerPool, type HePortFactory, type MinerPool, type PoolDevice, type PoolJobTiming } from '../workers/index.ts'
import { MINER_SQUEEZE, startMinerNode, type MinerNode } from './miner-node.ts'
import type { ModelLoader } from './model-source.ts'
import { publicError } from './peer-views.ts'
import type { Donor, DonorState, DonorTimings, ModelSource } from './types.ts'

/** What a donor is built from (per platform: platform.web.ts). */
export interface DonorComponents {
  /** A peer others can reach, when it is reachable, and the addresses they dial. */
  readonly createPeer: (privateKey: PrivateKey) => Promise<{ peer: CerberusPeer, ready: () => Promise<void>, addrs: () => string[] }>
  /** Starts a miner worker (in a browser: he-miner.worker.web.ts, whose GPU runtime is onnxruntime-web). */
  readonly spawnHeWorker: HePortFactory
  readonly loadModel: ModelLoader
  /** Whether this platform offers WebGPU at all (absent: no GPU is tried). */
  readonly webgpuAvailable?: () => Promise<boolean>
}

/** Options of {@link createDonor}. */
export interface DonorOptions {
  readonly relay: string
  /** The model this tab serves (default: the app's default model). */
  readonly model?: ModelSource
  /** Announcement interval (ms); default the discovery module's. */
  readonly announceIntervalMs?: number
  /** Compute on the GPU where WebGPU is available and the self-test passes (default true). */
  readonly gpu?: boolean
}

/** Why a donor computes on the CPU without asking its workers. */
const NO_WEBGPU = 'WebGPU not available'
const GPU_OFF = 'GPU switched off for this donor'

/** The panel's device line from the pool's. */
function deviceState (d: PoolDevice): Pick<DonorState, 'device' | 'deviceReason'> {
  const share = d.kind === 'gpu' && d.gpuWorkers < d.workers ? ` (${d.gpuWorkers} of ${d.workers} workers)` : ''
  return { device: d.kind, deviceReason: d.reason + share }
}

/** The timings after one more job. */
function addJob (t: DonorTimings | undefined, job: PoolJobTiming): DonorTimings {
  return {
    jobs: (t?.jobs ?? 0) + 1,
    gpuJobs: (t?.gpuJobs ?? 0) + (job.device === 'gpu' ? 1 : 0),
    gpuMs: (t?.gpuMs ?? 0) + job.gpuMs,
    cpuMs: (t?.cpuMs ?? 0) + job.cpuMs,
    last: job
  }
}

/** Throughput chart: one sample every 2 s, one minute kept. */
const SAMPLE_MS = 2000
const SAMPLES = 30

const INITIAL: DonorState = { status: 'off', workers: 0, jobs: 0, failed: 0, bytesIn: 0, bytesOut: 0, computeMs: 0, throughput: [], device: 'cpu', webgpuAvailable: false }

/** A donor (nothing runs until `start`). */
export function createDonor (opts: DonorOptions, components: DonorComponents): Donor {
  const store = createStore<DonorState>(() => INITIAL)
  const set = (s: Partial<DonorState>): void => { store.setState(s) }
  let peer: CerberusPeer | undefined
  let pool: MinerPool | undefined
  let node: MinerNode | undefined
  let sampler: ReturnType<typeof setInterval> | undefined
  void components.webgpuAvailable?.().then(ok => { set({ webgpuAvailable: ok }) })

  const teardown = async (): Promise<void> => {
    if (sampler !== undefined) clearInterval(sampler)
    sampler = undefined
    await node?.stop()
    pool?.close()
    await peer?.stop()
    node = undefined
    pool = undefined
    peer = undefined
  }

  return {
    store,
    getState: store.getState,
    subscribe: (listener) => store.subscribe(listener),
    async start ({ workers }) {
      if (store.getState().status !== 'off' && store.getState().status !== 'error') return
      set({ status: 'starting', error: undefined, workers, timings: undefined })
      try {
        const model = await components.loadModel(opts.model ?? { kind: 'default' })
        const privateKey = await generateKeyPair('Ed25519')
        const reachable = await components.createPeer(privateKey)
        peer = reachable.peer
        const webgpu = opts.gpu !== false && (await components.webgpuAvailable?.().catch(() => false)) === true
        const p = createMinerPool({
          spawn: components.spawnHeWorker,
          size: workers,
          gpu: webgpu,
          onJob: job => {
            set({ timings: addJob(store.getState().timings, job) })
            // A GPU failure may have turned a worker to the CPU: show what computes now.
            if (job.fallback !== undefined) void p.device().then(d => { set(deviceState(d)) }).catch(() => {})
          }
        })
        pool = p
        // Each worker's GPU self-test runs here, before the donor announces itself.
        set(webgpu ? deviceState(await p.device()) : { device: 'cpu', deviceReason: opts.gpu === false ? GPU_OFF : NO_WEBGPU })
        // Quantized with the page live between slices (seconds for a 768-dim model); the
        // rest of a miner's squeeze is shape-only plans.
        const quantized = await quantizeModelAsync(model.ckpt, { foldNorms: true })
        const n = await startMinerNode({
          model: { name: model.name, sha256: model.sha256, squeezed: squeezeModel(model.ckpt, { ...MINER_SQUEEZE, quantized }) },
          privateKey,
          relays: [multiaddr(opts.relay)],
          capacity: workers,
          addrs: reachable.addrs,
          reachable: reachable.ready,
          announceIntervalMs: opts.announceIntervalMs
        }, { peer: reachable.peer, compute: pool })
        node = n
        let lastJobs = 0
        sampler = setInterval(() => {
          const st = n.service.stats
          const rate = (st.jobs - lastJobs) / (SAMPLE_MS / 1000)
          lastJobs = st.jobs
          set({ jobs: st.jobs, failed: st.failed, bytesIn: st.bytesIn, bytesOut: st.bytesOut, computeMs: st.computeMs, throughput: [...store.getState().throughput, rate].slice(-SAMPLES) })
        }, SAMPLE_MS)
        set({ status: 'on', peerId: n.peerId })
      } catch (err) {
        await teardown().catch(() => {})
        set({ status: 'error', error: publicError(err) })
        throw err
      }
    },
    pause () {
      if (node === undefined) return
      node.pause()
      set({ status: 'paused' })
    },
    resume () {
      if (node === undefined) return
      node.resume()
      set({ status: 'on' })
    },
    async stop () {
      await teardown()
      set({ status: 'off', peerId: undefined })
    }
  }
}
