/**
 * The user's side of Cerberus in a browser tab: one object, outside React, that loads the
 * model, starts the HE worker (the keys are made there and never leave it), joins the mesh
 * (relay, discovery, WebRTC/WebSocket connections to miners) and runs private generation —
 * the transformer's cheap parts here, every encrypted linear layer on miners, every result
 * verified. State is a zustand vanilla store; the UI subscribes.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createStore } from 'zustand/vanilla'
import { CerberusError } from '../core/errors.ts'
import { generateAsync, heBackend, privateEngine, type LinearBackend } from '../core/engine/index.ts'
import type { MinerLink } from '../core/engine/he-backend.ts'
import type { MatvecPlan } from '../core/he/plan.ts'
import { NETWORKS, splitWays } from '../core/he/planner.ts'
import { createRng, createSampler, encode } from '../core/model/index.ts'
import { squeezeModel, type SqueezedModel } from '../core/squeeze/squeeze.ts'
import { createWebPeer } from '../net/peer.web.ts'
import { dialWithRetry, keepConnected, type KeepConnected } from '../net/dial.ts'
import { createPeerTable, startAnnouncing, type Announcer, type PeerTable, type PeerTableEntry } from '../net/discovery/index.ts'
import { meshMinerLink } from '../net/mesh-link.ts'
import type { CerberusPeer } from '../net/peer.ts'
import { minerScheduler, type MinerScheduler } from '../net/scheduler.ts'
import { createHeUserClient, type HeUserClient } from '../workers/he-client.ts'
import { spawnWebHeWorker } from '../workers/he-port.web.ts'
import { loadModelSource, type LoadedModel } from './model-source.ts'
import { connectionKind, publicError } from './peer-view.ts'
import type { AnswerReceipt, CerberusClient, ClientState, GenerateSettings, ModelSource, PeerView, PhaseProgress } from './types.ts'

/** A generation was asked for while another runs, or before the client started. */
export class ClientBusyError extends CerberusError {
  constructor (message: string) {
    super('CLIENT_BUSY', message)
  }
}

/** Options of {@link createCerberusClient}. */
export interface ClientOptions {
  /** The relay's multiaddr (…/ws/p2p/12D3…). */
  readonly relay: string
  /** STUN/TURN servers for WebRTC (default none: loopback and LANs need none). */
  readonly iceServers?: RTCIceServer[]
  /** Where the default model's files are (default `/models/default/`). */
  readonly modelBase?: string
  /** URL of SEAL's .wasm when the app is bundled elsewhere (the widget). */
  readonly wasmUrl?: string
  /** Starts the user's HE worker (default: a module Web Worker of this origin). */
  readonly spawnHeWorker?: typeof spawnWebHeWorker
  /**
   * Split a matrix's output blocks across miners from this many blocks on. Default: the
   * planner decides per matrix (`splitWays` on the lan profile: only when the miner time
   * saved beats sending the inputs again).
   */
  readonly splitMinBlocks?: number
  /** Privacy audits and tests: every frame sent to a miner, every int8 vector before it is encrypted, every token id. */
  readonly onSend?: (frame: Uint8Array) => void
  readonly onQuantizedInput?: (matrixId: string, xq: Int8Array) => void
  readonly onToken?: (id: number) => void
}

/**
 * A job not answered in this time is given to another miner: stories260K's take ~30 ms, a
 * 768-dim layer's a few hundred ms even over a slow link; 20 s means a miner is stuck.
 */
const JOB_TIMEOUT_MS = 20_000

/** How often the client pings the miners it uses, for the network panel. */
const PING_INTERVAL_MS = 10_000

/** Start the user's side (nothing runs until `start`). */
export function createCerberusClient (opts: ClientOptions): CerberusClient {
  const store = createStore<ClientState>(() => ({ status: 'idle', relay: { address: opts.relay, connected: false }, peers: [], minersReady: 0 }))
  const set = (s: Partial<ClientState>): void => { store.setState(s) }
  const session = crypto.randomUUID()
  let peer: CerberusPeer | undefined
  let relayWatch: KeepConnected | undefined
  let table: PeerTable | undefined
  let announcer: Announcer | undefined
  let user: HeUserClient | undefined
  let model: LoadedModel | undefined
  let sq: SqueezedModel | undefined
  let scheduler: MinerScheduler | undefined
  let backend: LinearBackend | undefined
  let busy = false
  /** Bytes of every frame sent to miners: retries and split jobs send inputs more than once. */
  let sentBytes = 0
  let pinger: ReturnType<typeof setInterval> | undefined
  const latency = new Map<string, number>()
  const failed = new Map<string, number>()
  const dropped = new Map<string, 'rejected' | 'unreachable'>()
  const progress = (p: PhaseProgress): void => { set({ progress: p }) }

  /** A link to a discovered miner: connects through its announced addresses on first use. */
  const linkTo = (node: CerberusPeer, entry: PeerTableEntry): MinerLink => {
    const id = peerIdFromString(entry.peerId)
    const inner = meshMinerLink(node, id, { session, timeoutMs: JOB_TIMEOUT_MS, onSend: f => { sentBytes += f.byteLength; opts.onSend?.(f) } })
    const addrs = (): Multiaddr[] => (table?.get(entry.peerId)?.addrs ?? entry.addrs).map(a => multiaddr(a))
    return {
      name: entry.peerId,
      prepare: inner.prepare,
      async compute (matrixId, inputs, jobId, blocks) {
        if (node.getConnections(id).every(c => c.limits !== undefined)) await dialWithRetry(node, addrs()).catch(() => {}) // meshMinerLink reports the failure
        try {
          return await inner.compute(matrixId, inputs, jobId, blocks)
        } catch (err) {
          failed.set(entry.peerId, (failed.get(entry.peerId) ?? 0) + 1)
          throw err
        }
      }
    }
  }

  const refreshPeers = (): void => {
    if (peer === undefined || table === undefined) return
    const node = peer
    const active = new Set(scheduler?.active ?? [])
    const views: PeerView[] = table.list().map(e => ({
      peerId: e.peerId,
      role: e.role,
      connection: connectionKind(node.getConnections(peerIdFromString(e.peerId))),
      latencyMs: latency.get(e.peerId),
      load: e.load,
      capacity: e.capacity,
      jobs: scheduler?.answered.get(e.peerId) ?? 0,
      failed: failed.get(e.peerId) ?? 0,
      dropped: dropped.get(e.peerId),
      lastSeen: e.ts,
      modelSha256: e.model?.sha256
    }))
    const relayId = multiaddr(opts.relay).getComponents().find(c => c.name === 'p2p')?.value
    if (relayId !== undefined) views.unshift({ peerId: relayId, role: 'relay', connection: connectionKind(node.getConnections(peerIdFromString(relayId))), latencyMs: latency.get(relayId), jobs: 0, failed: 0 })
    set({ peers: views, minersReady: views.filter(v => v.role === 'miner' && active.has(v.peerId)).length })
  }

  /** Match the scheduler to the table: add miners of our model, remove those forgotten. */
  const syncMiners = (): void => {
    if (peer === undefined || table === undefined || scheduler === undefined || model === undefined) return
    const node = peer
    const s = scheduler
    const listed = table.list().filter(e => e.role === 'miner' && e.model?.sha256 === model?.sha256)
    for (const e of listed) {
      if (!s.active.includes(e.peerId) && dropped.get(e.peerId) !== 'rejected') {
        dropped.delete(e.peerId)
        void s.add(linkTo(node, e)).then(refreshPeers)
      }
    }
    const ids = new Set(listed.map(e => e.peerId))
    for (const name of s.active) if (!ids.has(name)) s.remove(name)
    refreshPeers()
  }

  const prepareModel = async (source: ModelSource): Promise<void> => {
    progress({ phase: 'loading-model', label: 'Loading the model', done: 0, total: 1 })
    const loaded = await loadModelSource(source, {
      base: opts.modelBase ?? '/models/default/',
      onProgress: (done, total) => { progress({ phase: 'loading-model', label: total > 0 ? `Loading the model (${(done / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB)` : `Loading the model (${(done / 1e6).toFixed(1)} MB)`, done, total: Math.max(total, done) }) }
    })
    const squeezed = squeezeModel(loaded.ckpt, { network: NETWORKS.lan })
    progress({ phase: 'generating-keys', label: 'Generating your encryption keys (they never leave this tab)', done: 0, total: 1 })
    const u = user ?? createHeUserClient({ spawn: opts.spawnHeWorker ?? spawnWebHeWorker, wasmUrl: opts.wasmUrl })
    user = u
    // The first request starts SEAL in the worker and makes the keys; encrypting zeros here
    // (nothing is sent) makes that happen now, under this progress bar, not on the first token.
    const first = [...squeezed.groups.values()].find(g => g.placement === 'encrypted')?.plans[0] as MatvecPlan | undefined
    if (first !== undefined) await u.encrypt(first, new Int8Array(first.dIn))
    progress({ phase: 'generating-keys', label: 'Encryption keys ready', done: 1, total: 1 })
    backend?.close?.()
    model = loaded
    sq = squeezed
    dropped.clear()
    scheduler = minerScheduler([], { maxAttempts: 4, ...(opts.splitMinBlocks === undefined ? { split: (p, miners) => splitWays(p, NETWORKS.lan, miners) } : { splitMinBlocks: opts.splitMinBlocks }), onDrop: (m, why) => { dropped.set(m, why === 'rejected' ? 'rejected' : 'unreachable'); refreshPeers() } })
    // prepare only records plans on mesh links; miners join the scheduler as they are discovered
    backend = await heBackend(squeezed, { encrypt: async (p, x) => await u.encrypt(p, x), decrypt: async (p, r, e) => await u.decrypt(p, r, e) }, scheduler, { maxAttempts: 3, onQuantizedInput: opts.onQuantizedInput })
    const c = loaded.ckpt.config
    set({ model: { name: loaded.name, sha256: loaded.sha256, dim: c.dim, layers: c.nLayers, vocab: c.vocabSize, bytes: loaded.bytes } })
  }

  const waitForMiners = async (): Promise<void> => {
    const t0 = Date.now()
    while (store.getState().minersReady === 0) {
      const waited = Math.round((Date.now() - t0) / 1000)
      progress({ phase: 'finding-miners', label: waited < 5 ? 'Finding miners' : `Finding miners — none online yet (${waited} s). Turn on "Donate" in another tab, or run "npx cerberus miner --relay …"`, done: 0, total: 1 })
      syncMiners()
      await new Promise(resolve => setTimeout(resolve, 250))
      if (store.getState().status !== 'starting') return
    }
    progress({ phase: 'finding-miners', label: `Found ${store.getState().minersReady} miner(s)`, done: 1, total: 1 })
  }

  const client: CerberusClient = {
    getState: store.getState,
    subscribe: (listener) => store.subscribe(listener),
    async start (source) {
      if (store.getState().status === 'starting') throw new ClientBusyError('the client is already starting')
      set({ status: 'starting', error: undefined })
      try {
        await prepareModel(source)
        progress({ phase: 'connecting', label: 'Connecting to the relay', done: 0, total: 1 })
        if (peer === undefined) {
          const privateKey = await generateKeyPair('Ed25519')
          const node = await createWebPeer({ iceServers: opts.iceServers, privateKey })
          peer = node
          table = createPeerTable(node)
          // Say "a user is here" (no address, no model, nothing about the conversation), so
          // network panels can count users; the relay already knows this peer id.
          announcer = startAnnouncing(node, privateKey, () => ({ role: 'user' as const, addrs: [], presets: [], capacity: 0, load: 0 }))
          table.subscribe(syncMiners)
          relayWatch = keepConnected(node, multiaddr(opts.relay), { onChange: (connected) => { set({ relay: { address: opts.relay, connected } }); refreshPeers() } })
          node.addEventListener('connection:open', refreshPeers)
          node.addEventListener('connection:close', refreshPeers)
          pinger = setInterval(() => {
            for (const c of node.getConnections()) {
              if (c.limits !== undefined) continue
              const id = c.remotePeer.toString()
              void (node.services.ping as { ping: (p: typeof c.remotePeer) => Promise<number> }).ping(c.remotePeer).then(ms => { latency.set(id, ms) }, () => {})
            }
            refreshPeers()
          }, PING_INTERVAL_MS)
        }
        const t0 = Date.now()
        while (relayWatch?.connected !== true && Date.now() - t0 < 15_000) await new Promise(resolve => setTimeout(resolve, 100))
        if (relayWatch?.connected !== true) throw new CerberusError('RELAY_UNREACHABLE', `cannot reach the relay at ${opts.relay}; check the address in Settings (npm start prints it), then try again`)
        progress({ phase: 'connecting', label: 'Connected to the relay', done: 1, total: 1 })
        await waitForMiners()
        set({ status: 'ready', progress: undefined })
      } catch (err) {
        set({ status: 'error', error: publicError(err) })
        throw err
      }
    },
    async loadModel (source) {
      if (busy) throw new ClientBusyError('wait for the answer to finish (or stop it) before switching models')
      const before = store.getState().status
      set({ status: 'starting', error: undefined })
      try {
        await prepareModel(source)
        syncMiners()
        if (peer !== undefined) await waitForMiners()
        set({ status: before === 'idle' ? 'idle' : 'ready', progress: undefined })
      } catch (err) {
        // the previous model (if any) stays in use
        set({ status: model === undefined ? 'error' : 'ready', progress: undefined, error: publicError(err) })
        throw err
      }
    },
    async generate (prompt, settings: GenerateSettings, gopts) {
      if (busy) throw new ClientBusyError('an answer is already being generated')
      if (backend === undefined || sq === undefined || model === undefined || scheduler === undefined) throw new ClientBusyError('start the client first')
      busy = true
      const s = scheduler
      const st = backend.stats
      const before = { ...st }
      const sentBefore = sentBytes
      const answeredBefore = new Map(s.answered)
      const t0 = performance.now()
      let tokens = 0
      let stopped = false
      try {
        const promptLen = encode(model.tokenizer, prompt).length
        const steps = Math.min(model.ckpt.config.seqLen, promptLen - 1 + Math.max(1, settings.maxTokens))
        const seed = settings.seed ?? (Date.now() >>> 0)
        const sampler = createSampler({ temperature: settings.temperature, topp: settings.topp }, createRng(seed === 0 ? 1 : seed))
        const decoder = new TextDecoder()
        for await (const t of generateAsync(privateEngine(sq.params, backend), model.tokenizer, sampler, { prompt, steps, signal: gopts.signal })) {
          opts.onToken?.(t.token)
          if (t.fromPrompt) continue
          tokens++
          const text = decoder.decode(t.bytes, { stream: true })
          if (text !== '') gopts.onText(text)
        }
        const tail = decoder.decode()
        if (tail !== '') gopts.onText(tail)
      } catch (err) {
        if (gopts.signal?.aborted !== true) throw err
        stopped = true // stopped by the user: the receipt still says what was done
      } finally {
        busy = false
        refreshPeers()
      }
      const miners = [...s.answered].map(([peerId, n]) => ({ peerId, jobs: n - (answeredBefore.get(peerId) ?? 0) })).filter(m => m.jobs > 0)
      const receipt: AnswerReceipt = {
        tokens,
        ms: performance.now() - t0,
        bytesUp: sentBytes - sentBefore,
        bytesDown: st.bytesDown - before.bytesDown,
        verified: st.verified - before.verified,
        rejected: st.rejected - before.rejected,
        miners,
        ...(stopped ? { stopped } : {})
      }
      return receipt
    },
    async stop () {
      if (pinger !== undefined) clearInterval(pinger)
      relayWatch?.stop()
      announcer?.stop()
      announcer = undefined
      table?.stop()
      backend?.close?.()
      user?.close()
      user = undefined
      await peer?.stop()
      peer = undefined
      set({ status: 'idle', progress: undefined })
    }
  }
  return client
}
