/**
 * The user's side of Cerberus, outside React: one object that loads the model, starts the
 * HE worker (the keys are made there and never leave it), joins the mesh (relay,
 * discovery, connections to miners) and runs private generation — the transformer's cheap
 * parts here, every encrypted linear layer on miners, every result verified. Its state is
 * a zustand vanilla store (`store`) that the UI's hooks select from.
 *
 * It is assembled from the app's parts: {@link joinMesh} (peer, relay, table,
 * announcements), {@link createMinerLinks} (the scheduler over the model's miners),
 * {@link createPeerViews} (the network panel), {@link createPrivateGeneration} (the
 * pipeline). Its platform comes in as components (platform.web.ts for browsers).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createStore } from 'zustand/vanilla'
import { CerberusError } from '../core/errors.ts'
import { NETWORKS, type NetworkProfile } from '../core/he/index.ts'
import type { RoundsMode } from '../core/squeeze/index.ts'
import type { CerberusPeer } from '../net/peer.ts'
import { createHeUserClient, squeezeInWorker, type HePortFactory, type HeUserClient } from '../workers/index.ts'
import { modelChatTemplate } from './chat.ts'
import { joinMesh, type MeshMember } from './mesh-member.ts'
import { createMinerLinks, type MinerLinks } from './miner-links.ts'
import { createLocalGeneration, type LocalGeneration, type LocalGenerationOptions } from './local-generation.ts'
import type { LoadedModel, ModelLoader } from './model-source.ts'
import { createPeerViews, publicError, type PeerViews } from './peer-views.ts'
import { createPrivateGeneration, type PrivateGeneration } from './private-generation.ts'
import type { CerberusClient, ClientState, ModelSource, PhaseProgress } from './types.ts'

/** A generation was asked for while another runs, or before the client started. */
export class ClientBusyError extends CerberusError {
  constructor (message: string) {
    super('CLIENT_BUSY', message)
  }
}

/** What a client is built from (per platform: platform.web.ts). */
export interface ClientComponents {
  /** Make this user's libp2p peer with its identity (it only dials; it need not be reachable). */
  readonly createPeer: (privateKey: PrivateKey) => Promise<CerberusPeer>
  /** Start the user's HE worker. */
  readonly spawnHeWorker: HePortFactory
  /** Fetch and parse a model, reporting bytes. */
  readonly loadModel: ModelLoader
  /**
   * Local mode's engine for a model (pages: a Web Worker, local-generation.web.ts), planned
   * with `options` — the private pipeline's network and squeeze options, so that a local
   * answer is the private one's text. Default: in this thread ({@link createLocalGeneration}),
   * which tools and tests use.
   */
  readonly localGeneration?: (model: LoadedModel, options: LocalGenerationOptions) => LocalGeneration
}

/** Options of {@link createCerberusClient}. */
export interface ClientOptions {
  /** The relay's multiaddr (…/ws/p2p/12D3…). */
  readonly relay: string
  /** URL of SEAL's .wasm when the app is bundled elsewhere (the widget). */
  readonly wasmUrl?: string
  /**
   * Split a matrix's output blocks across miners from this many blocks on. Default: the
   * planner decides per matrix (`splitWays` on the lan profile: only when the miner time
   * saved beats sending the inputs again).
   */
  readonly splitMinBlocks?: number
  /**
   * The network the plan and the splitting are made for (default `NETWORKS.lan`, what
   * WebRTC reached here); benchmarks pass the link they simulate.
   */
  readonly network?: NetworkProfile
  /**
   * The round layout of the plan (default 'auto': the planner's choice for `network`);
   * benchmarks force one to measure the other. Local answers use the same plan.
   */
  readonly rounds?: RoundsMode
  /**
   * Length padding: round every prompt and answer up to buckets of this many tokens with
   * dummy jobs (padding.ts; 32 is the usual setting), so miners learn lengths only to
   * within it. Default: off.
   */
  readonly padTo?: number
  /** How long `start` waits for the relay (default 15 s). */
  readonly relayTimeoutMs?: number
  /** Privacy audits and tests: every frame sent to a miner, every int8 vector before it is encrypted, every token id. */
  readonly onSend?: (frame: Uint8Array) => void
  readonly onQuantizedInput?: (matrixId: string, xq: Int8Array) => void
  readonly onToken?: (id: number) => void
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** The user's client (nothing runs until `start`). */
export function createCerberusClient (opts: ClientOptions, components: ClientComponents): CerberusClient {
  const store = createStore<ClientState>(() => ({ status: 'idle', relay: { address: opts.relay, connected: false }, peers: [], minersReady: 0 }))
  const set = (s: Partial<ClientState>): void => { store.setState(s) }
  const progress = (p: PhaseProgress): void => { set({ progress: p }) }
  const session = crypto.randomUUID()
  // Squeeze options of both pipelines (private and local): one plan, one text.
  const squeeze = opts.rounds === undefined ? {} : { rounds: opts.rounds }
  let member: MeshMember | undefined
  let views: PeerViews | undefined
  let user: HeUserClient | undefined
  let links: MinerLinks | undefined
  let gen: PrivateGeneration | undefined
  let loaded: LoadedModel | undefined
  // Local mode's engine, made on first use for the loaded model.
  let local: { model: LoadedModel, gen: LocalGeneration } | undefined
  /** The private or local answer being generated, if any (a model switch waits for it before swapping). */
  let answering: Promise<unknown> | undefined
  /** A model is loading (planned in a worker of its own: the model in use answers meanwhile). */
  let loading = false

  const localFor = (model: LoadedModel): LocalGeneration => {
    if (local?.model !== model) {
      void local?.gen.close()
      // The same plan as the private pipeline's, so a local answer is the private one's text.
      const options: LocalGenerationOptions = { network: opts.network ?? NETWORKS.lan, squeeze }
      local = { model, gen: components.localGeneration?.(model, options) ?? createLocalGeneration(model, options) }
    }
    return local.gen
  }

  const refresh = (): void => {
    if (views === undefined) return
    set({ peers: views.list(), minersReady: links?.ready ?? 0 })
  }

  /** Load a model, make the keys, and build its pipeline over its miners. */
  const prepareModel = async (source: ModelSource): Promise<void> => {
    progress({ phase: 'loading-model', label: 'Loading the model', done: 0, total: 1 })
    const model: LoadedModel = await components.loadModel(source, (done, total) => {
      progress({ phase: 'loading-model', label: total > 0 ? `Loading the model (${(done / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB)` : `Loading the model (${(done / 1e6).toFixed(1)} MB)`, done, total: Math.max(total, done) })
    })
    progress({ phase: 'generating-keys', label: 'Planning the encrypted layers and generating your encryption keys (they never leave this tab)', done: 0, total: 1 })
    user ??= createHeUserClient({ spawn: components.spawnHeWorker, wasmUrl: opts.wasmUrl })
    const network = opts.network ?? NETWORKS.lan
    const nextLinks = createMinerLinks(await joinOnce(), { session, modelSha256: model.sha256, network, splitMinBlocks: opts.splitMinBlocks, onSend: opts.onSend, onChange: refresh })
    let next: PrivateGeneration
    try {
      next = await createPrivateGeneration(model, { session: user, miners: nextLinks.scheduler, squeeze: async (...args) => await squeezeInWorker({ spawn: components.spawnHeWorker, wasmUrl: opts.wasmUrl }, ...args) }, { network, squeeze, onQuantizedInput: opts.onQuantizedInput, ...(opts.padTo === undefined ? {} : { padTo: opts.padTo }) })
      // The first request starts SEAL in the worker and makes the keys; encrypting zeros here
      // (nothing is sent) makes that happen now, under this progress bar, not on the first token.
      await next.warmUp()
    } catch (err) {
      nextLinks.stop()
      throw err
    }
    progress({ phase: 'generating-keys', label: 'Encryption keys ready', done: 1, total: 1 })
    // The model in use answers until here; an answer under way finishes on it first. No await
    // between the last check and the swap: an answer asked for after it runs on the new model.
    while (answering !== undefined) {
      progress({ phase: 'generating-keys', label: 'Waiting for the answer under way to finish', done: 1, total: 1 })
      await answering.catch(() => {})
    }
    links?.stop()
    links = nextLinks
    gen = next
    loaded = model
    const c = model.ckpt.config
    set({ model: { name: model.name, sha256: model.sha256, dim: c.dim, layers: c.nLayers, vocab: c.vocabSize, bytes: model.bytes } })
  }

  const waitForMiners = async (): Promise<void> => {
    const t0 = Date.now()
    while ((links?.ready ?? 0) === 0) {
      const waited = Math.round((Date.now() - t0) / 1000)
      progress({ phase: 'finding-miners', label: waited < 5 ? 'Finding miners' : `Finding miners — none online yet (${waited} s). Turn on "Donate" in another tab, or run "npx cerberus miner --relay …"`, done: 0, total: 1 })
      links?.sync()
      await sleep(250)
      if (store.getState().status !== 'starting') return
    }
    refresh()
    progress({ phase: 'finding-miners', label: `Found ${links?.ready ?? 0} miner(s)`, done: 1, total: 1 })
  }

  /** This user's peer on the mesh, joined on first use. */
  const joinOnce = async (): Promise<MeshMember> => {
    if (member !== undefined) return member
    const privateKey = await generateKeyPair('Ed25519')
    const peer = await components.createPeer(privateKey)
    const relay = multiaddr(opts.relay)
    // Say "a user is here" (no address, no model, nothing about the conversation), so
    // network panels can count users; the relay already knows this peer id.
    member = joinMesh(peer, { privateKey, relays: [relay], onRelayChange: (_r, connected) => { set({ relay: { address: opts.relay, connected } }); refresh() } })
    member.announce(() => ({ role: 'user' as const, addrs: [], presets: [], capacity: 0, load: 0 }))
    views = createPeerViews(member, opts.relay, () => links, refresh)
    return member
  }

  /** Run an answer as the one under way (a model switch waits for it). */
  const track = async <T>(answer: Promise<T>): Promise<T> => {
    answering = answer
    try {
      return await answer
    } finally {
      answering = undefined
    }
  }

  const client: CerberusClient = {
    store,
    getState: store.getState,
    subscribe: (listener) => store.subscribe(listener),
    async start (source) {
      if (store.getState().status === 'starting') throw new ClientBusyError('the client is already starting')
      set({ status: 'starting', error: undefined })
      try {
        await prepareModel(source)
        progress({ phase: 'connecting', label: 'Connecting to the relay', done: 0, total: 1 })
        if (member === undefined || !await member.untilRelay(opts.relayTimeoutMs ?? 15_000)) throw new CerberusError('RELAY_UNREACHABLE', `cannot reach the relay at ${opts.relay}; check the address in Settings (npm start prints it), then try again`)
        progress({ phase: 'connecting', label: 'Connected to the relay', done: 1, total: 1 })
        await waitForMiners()
        set({ status: 'ready', progress: undefined })
      } catch (err) {
        set({ status: 'error', error: publicError(err) })
        throw err
      }
    },
    async loadModel (source) {
      if (loading) throw new ClientBusyError('a model is being loaded already')
      const before = store.getState().status
      set({ status: 'starting', error: undefined, switching: loaded !== undefined })
      loading = true
      try {
        const old = gen
        await prepareModel(source)
        await old?.close()
        await waitForMiners()
        set({ status: before === 'idle' ? 'idle' : 'ready', progress: undefined })
      } catch (err) {
        // the previous model (if any) stays in use
        set({ status: loaded === undefined ? 'error' : 'ready', progress: undefined, error: publicError(err) })
        throw err
      } finally {
        loading = false
        set({ switching: false })
      }
    },
    async generate (text, requested, gopts) {
      if (answering !== undefined) throw new ClientBusyError('an answer is already being generated')
      // A chat model (its tokenizer brings a template) answers the prompt as a user's turn.
      const template = loaded === undefined ? undefined : modelChatTemplate(loaded.tokenizer)
      const prompt = template === undefined ? text : template([{ role: 'user', content: text }])
      const settings = template === undefined ? requested : { ...requested, specialTokens: true }
      if (gopts.mode === 'local') {
        // Needs only the model: no keys, relay or miners (it is the way to answer without them).
        if (loaded === undefined) throw new ClientBusyError('the model is not loaded yet')
        return await track(localFor(loaded).generate(prompt, settings, { signal: gopts.signal, onText: gopts.onText }))
      }
      if (gen === undefined) throw new ClientBusyError('start the client first')
      // While another model loads (planned in its own worker), the model in use answers.
      try {
        return await track(gen.generate(prompt, settings, {
          signal: gopts.signal,
          onText: gopts.onText,
          onToken: t => { opts.onToken?.(t.token) }
        }))
      } finally {
        refresh()
      }
    },
    async stop () {
      views?.stop()
      views = undefined
      member?.leave()
      links?.stop()
      links = undefined
      await gen?.close()
      gen = undefined
      await local?.gen.close()
      local = undefined
      user?.close()
      user = undefined
      await member?.peer.stop()
      member = undefined
      set({ status: 'idle', progress: undefined })
    }
  }
  return client
}
