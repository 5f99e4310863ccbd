/**
 * The app's roles as the UI sees them: a {@link CerberusClient} (the user's side: model,
 * keys, mesh, private generation) and a {@link Donor} (this tab as a miner). Both live
 * outside React, own their workers and libp2p node, and publish their state as a zustand
 * vanilla store (`store`) that the UI's hooks select from.
 */
import type { StoreApi } from 'zustand/vanilla'

/**
 * Where the model comes from. A GGUF file brings its own tokenizer (and chat template); a
 * llama2.c checkpoint needs its tokenizer file.
 */
export type ModelSource =
  | { readonly kind: 'default' }
  | { readonly kind: 'url', readonly model: string, readonly tokenizer?: string }
  | { readonly kind: 'files', readonly model: Blob, readonly tokenizer?: Blob }

/** First-run work, in order; each reported with a fraction done. */
export type StartPhase = 'loading-model' | 'generating-keys' | 'connecting' | 'finding-miners'

/** Progress of one phase: `done` of `total` (bytes for downloads, steps otherwise). */
export interface PhaseProgress {
  readonly phase: StartPhase
  /** Plain words for the user, e.g. "Downloading the model (1.1 of 2.2 MB)". */
  readonly label: string
  readonly done: number
  readonly total: number
}

/** How this browser is connected to a peer. */
export type ConnectionKind = 'webrtc' | 'websocket' | 'relayed' | 'none'

/** A peer as the network panel shows it. */
export interface PeerView {
  readonly peerId: string
  readonly role: 'user' | 'miner' | 'validator' | 'relay'
  readonly connection: ConnectionKind
  /** Round-trip time of the last ping, when measured. */
  readonly latencyMs?: number
  /** Miners: jobs queued there now, and how many it can run at once. */
  readonly load?: number
  readonly capacity?: number
  /** Jobs this browser sent to it, and how they ended. */
  readonly jobs: number
  readonly failed: number
  /** Dropped by the scheduler ('rejected' = a result failed verification). */
  readonly dropped?: 'rejected' | 'unreachable'
  /** ms since epoch of its last announcement (miners) */
  readonly lastSeen?: number
  /** Model hash it serves (miners); only miners with this client's model are used. */
  readonly modelSha256?: string
  /**
   * Miners of this client's model: their standing from validators' scores and this user's
   * own checks — 'trusted' (validators vouch), 'unscored' (a bounded share of jobs) or
   * 'failed' (no job at all) — how many validators vouch and saw wrong results, and why.
   */
  readonly standing?: MinerStandingView
}

/** A miner's standing as the network panel shows it. */
export interface MinerStandingView {
  readonly status: 'trusted' | 'unscored' | 'failed'
  readonly vouches: number
  readonly against: number
  /** In words: why it is trusted, or why it is avoided. */
  readonly reason: string
}

/** What the user should know about one answer: what left the browser and who computed it. */
export interface AnswerReceipt {
  readonly tokens: number
  readonly ms: number
  /**
   * Bytes this browser sent to miners for the answer (ciphertexts and the jobs' headers:
   * session, job and matrix ids, the plan — never text, token ids or activations), counted
   * as sent, so retries and split jobs count every copy; and bytes of results received.
   */
  readonly bytesUp: number
  readonly bytesDown: number
  /** Encrypted linear results checked (Freivalds), and rejected (then recomputed elsewhere). */
  readonly verified: number
  readonly rejected: number
  /**
   * Times this answer replaced the user's HE keys with fresh ones after a rejected result
   * (every rejection rotates them before anything more is encrypted; absent in local mode).
   */
  readonly keyRotations?: number
  /** Miners that computed results for this answer, with job counts. */
  readonly miners: ReadonlyArray<{ readonly peerId: string, readonly jobs: number }>
  /**
   * Padding mode: the lengths the miners saw, in tokens (the prompt's and the answer's,
   * rounded up to the bucket with dummy jobs; the counts above include them).
   */
  readonly padded?: { readonly prompt: number, readonly answer: number }
  /** True when the answer was stopped (aborted) before its end: the counts cover what was done. */
  readonly stopped?: boolean
  /**
   * True when the answer was generated on this device in plaintext (local mode): nothing
   * left the device, so there was nothing to encrypt or verify (bytes and counts are 0).
   */
  readonly local?: boolean
  /**
   * Dependent round trips the answer waited on: rounds of the forward pass with an
   * encrypted part (the parts of one round go out together; issue 12). Absent where a
   * receipt is built without a backend's counters.
   */
  readonly rounds?: number
  /** The plan's round layout: fused (2 round trips per layer + 1) or unfused (4 per layer). */
  readonly layout?: 'fused' | 'unfused'
  /**
   * Where the private answer's job time went, in ms summed over its jobs (the jobs of one
   * round overlap, so the sums can exceed `ms`): the user's HE worker encrypting and
   * decrypting (the hop to it included), Freivalds checks, and the jobs' wall time from
   * handing the ciphertexts to the miners to having their results (the miners' compute,
   * the transport, their worker hops and queues). Absent in local mode.
   */
  readonly time?: { readonly encryptMs: number, readonly decryptMs: number, readonly verifyMs: number, readonly jobsMs: number }
  /** The prompt's tokens (BOS not counted). */
  readonly promptTokens?: number
  /**
   * ms from the request to the first new token: the prompt's pass (batched: one round per
   * matrix) and one sampling. Absent when no token came.
   */
  readonly firstTokenMs?: number
}

/**
 * Where an answer is computed: `private` — encrypted, every linear layer on miners (the
 * default); `local` — on this device in plaintext, nothing leaves it (for when no miner
 * serves the model, or the user prefers it).
 */
export type GenerationMode = 'private' | 'local'

/** Sampling settings of one answer. */
export interface GenerateSettings {
  /** 0 = greedy. */
  readonly temperature: number
  readonly topp: number
  /** New tokens to generate after the prompt (capped by the model's context). */
  readonly maxTokens: number
  /** RNG seed (run.c's rules); default: time-based. */
  readonly seed?: number
}

/** The client's state, as `subscribe` publishes it. */
export interface ClientState {
  readonly status: 'idle' | 'starting' | 'ready' | 'error'
  readonly progress?: PhaseProgress
  readonly error?: { readonly code: string, readonly message: string }
  readonly model?: { readonly name: string, readonly sha256: string, readonly dim: number, readonly layers: number, readonly vocab: number, readonly bytes: number }
  readonly relay: { readonly address: string, readonly connected: boolean }
  readonly peers: readonly PeerView[]
  /** Miners usable now (same model, not dropped). */
  readonly minersReady: number
  /**
   * Another model is loading (`loadModel`; status 'starting'): the model in use still answers,
   * over its miners, until the new one is ready.
   */
  readonly switching?: boolean
}

/** The user's side. */
export interface CerberusClient {
  /** The client's state; the UI selects from it. */
  readonly store: StoreApi<ClientState>
  getState: () => ClientState
  subscribe: (listener: (s: ClientState) => void) => () => void
  /** Load the model, generate keys, connect to the relay, wait for a miner. Reports progress. */
  start: (source: ModelSource) => Promise<void>
  /** Switch model (keys and miners follow). @throws ModelFormatError for a file that is not a model. */
  loadModel: (source: ModelSource) => Promise<void>
  /**
   * A private answer: the continuation of `prompt` (the prompt itself is not echoed) streams
   * through `onText` as deltas (UTF-8 safe); resolves with the receipt. Aborting `signal`
   * stops between linear layers and resolves with a receipt marked `stopped` (the text so
   * far stays). Rejects on errors (no miners left, the relay and every miner gone, ...).
   * `mode: 'local'` answers on this device in plaintext instead (it needs only the loaded
   * model; the receipt has `local: true` and nothing was sent).
   */
  generate: (prompt: string, settings: GenerateSettings, opts: { signal?: AbortSignal, onText: (text: string) => void, mode?: GenerationMode }) => Promise<AnswerReceipt>
  stop: () => Promise<void>
}

/** What a donor tab has done. */
export interface DonorState {
  readonly status: 'off' | 'starting' | 'on' | 'paused' | 'error'
  /** This tab's peer id on the mesh while on (users' receipts name it). */
  readonly peerId?: string
  readonly error?: { readonly code: string, readonly message: string }
  readonly workers: number
  readonly jobs: number
  readonly failed: number
  readonly bytesIn: number
  readonly bytesOut: number
  readonly computeMs: number
  /** Jobs per second over the last minute, one sample per 2 s (for the live chart). */
  readonly throughput: readonly number[]
  /**
   * Where the jobs' multiply-accumulate runs: 'gpu' once a worker's GPU passed its
   * self-test, else 'cpu' (the WebAssembly kernel). SEAL's NTTs and key switches run on the
   * CPU either way.
   */
  readonly device: 'cpu' | 'gpu'
  /**
   * Why, once started: the GPU's adapter ("webgpu: …"), or why the CPU — "WebGPU not
   * available", "GPU self-test failed: results differed (…)", "GPU device lost: …".
   */
  readonly deviceReason?: string
  readonly webgpuAvailable: boolean
  /** How the jobs were computed: GPU and CPU time, per job and in all. */
  readonly timings?: DonorTimings
}

/** GPU and CPU time of a donor's jobs (ms, summed over its workers). */
export interface DonorTimings {
  /** Jobs timed, and how many of them ran their multiply-accumulate on the GPU. */
  readonly jobs: number
  readonly gpuJobs: number
  readonly gpuMs: number
  readonly cpuMs: number
  /** The last job: where it ran, its time on each, and why it fell back to the CPU if it did. */
  readonly last: { readonly device: 'cpu' | 'gpu', readonly gpuMs: number, readonly cpuMs: number, readonly fallback?: string }
}

/** This tab as a miner ("donate my GPU"). */
export interface Donor {
  /** The donor's state; the UI selects from it. */
  readonly store: StoreApi<DonorState>
  getState: () => DonorState
  subscribe: (listener: (s: DonorState) => void) => () => void
  /** Start serving jobs with `workers` Web Workers (the CPU budget). */
  start: (opts: { workers: number }) => Promise<void>
  /** Stop taking jobs (queued ones are answered MINER_BUSY); `resume` undoes it. */
  pause: () => void
  resume: () => void
  stop: () => Promise<void>
}
