/**
 * The user's private generation — the one assembly of the user's pipeline, used by the
 * app's client, the CLI, every benchmark and the gateway:
 *
 *   squeeze (the plan) → the user's HE session (keys inside) → miners (a scheduler over
 *   mesh links, or an in-process miner) → the encrypted backend (Freivalds on every
 *   result) → the private engine → tokens, and a receipt per answer.
 *
 * The components are injected (zustand/libp2p style) and stay the caller's: `session` is
 * the user's HE worker client (or an in-thread one in tools and tests), `miners` any
 * {@link MinerLink}. Nothing here knows about a platform.
 *
 * @example
 * ```ts
 * const { session, miner } = localHe(await loadSeal())
 * const gen = await createPrivateGeneration({ ckpt, tokenizer }, { session, miners: miner }, { network: NETWORKS.loopback })
 * const receipt = await gen.generate('Once upon a time', { temperature: 0, topp: 0.9, maxTokens: 32 }, { onText: t => process.stdout.write(t) })
 * await gen.close()
 * ```
 */
import { heBackend, privateEngine, type BackendStats, type HeSession, type JobResult, type LinearBackend, type MinerLink } from '../core/engine/index.ts'
import { NETWORKS, type NetworkProfile } from '../core/he/index.ts'
import type { MatvecPlan } from '../core/he/index.ts'
import { squeezeModel, type SqueezedModel, type SqueezeRequestOptions } from '../core/squeeze/index.ts'
import { CerberusError } from '../core/errors.ts'
import type { Checkpoint } from '../core/model/index.ts'
import { answerPadding } from './padding.ts'
import type { AnswerReceipt } from './types.ts'
import { runAnswer, type GenerationCallbacks, type GenerationModel, type GenerationSettings } from './answer-loop.ts'

export type { GenerationCallbacks, GenerationModel, GenerationSettings } from './answer-loop.ts'

/** A second answer was asked for while one is being generated. */
export class GenerationBusyError extends CerberusError {
  constructor (message: string) {
    super('GENERATION_BUSY', message)
  }
}

/** What private generation is built from. */
export interface PrivateGenerationComponents {
  /** The user's HE side: encryption and decryption, the keys inside it. */
  readonly session: HeSession
  /** Who computes the encrypted layers (a scheduler over miners, or one miner). */
  readonly miners: MinerLink
  /**
   * Who squeezes the model: the client passes a planner worker's (`squeezeInWorker`), so
   * neither a page's UI thread nor the user's key worker plans a big model. Default:
   * {@link squeezeModel} in this thread.
   */
  readonly squeeze?: (ckpt: Checkpoint, options: SqueezeRequestOptions, modelSha256?: string) => Promise<SqueezedModel>
}

/** Options of {@link createPrivateGeneration}. */
export interface PrivateGenerationOptions {
  /** The network the plan is made for (default lan). */
  readonly network?: NetworkProfile
  /** Squeezing options beyond the network (benchmarks measure the naive plan). */
  readonly squeeze?: Omit<SqueezeRequestOptions, 'network'>
  /**
   * Tries per job when results are rejected (default 3: with several miners each retry goes
   * to another; with one miner, 1 makes a lie fail the answer at once).
   */
  readonly maxAttempts?: number
  /** Privacy audits: every int8 vector before it is encrypted. */
  readonly onQuantizedInput?: (matrixId: string, xq: Int8Array) => void
  /**
   * Length padding (padding.ts): round the prompt and the answer up to buckets of this many
   * tokens ({@link PADDING_LIMITS}.defaultBucket = 32 is the issue's), with dummy jobs that
   * miners cannot tell from real ones; the output is unchanged. Default: off.
   * @throws {PaddingOptionsError} (from createPrivateGeneration) for a bucket out of range.
   */
  readonly padTo?: number
}

/** A running private generation. */
export interface PrivateGeneration {
  readonly squeezed: SqueezedModel
  /** The encrypted backend's counters since creation. */
  readonly stats: BackendStats
  /** Make the keys now (encrypts zeros in the HE session; nothing is sent). */
  warmUp: () => Promise<void>
  /** One private answer and its receipt. Rejects on errors (no miners left, …), resolves when stopped. */
  generate: (prompt: string, settings: GenerationSettings, callbacks?: GenerationCallbacks) => Promise<AnswerReceipt>
  /** Release the backend (the components are the caller's to close). */
  close: () => Promise<void>
}

/** Who answered a job, for receipts: one miner, or each part's miner. */
function jobMiners (r: JobResult, fallback: string): string[] {
  if (r.parts !== undefined && r.parts.length > 0) return r.parts.map(p => p.miner)
  return [r.miner ?? fallback]
}

/**
 * Squeeze the model for the network, prepare its encrypted matrices on `miners`, and return
 * the pipeline.
 * @throws {HeParamsError} when a matrix cannot be encrypted with the available parameters.
 */
export async function createPrivateGeneration (model: GenerationModel, components: PrivateGenerationComponents, opts: PrivateGenerationOptions = {}): Promise<PrivateGeneration> {
  const squeezeOptions: SqueezeRequestOptions = { ...opts.squeeze, network: opts.network ?? NETWORKS.lan }
  const squeezed = components.squeeze === undefined ? squeezeModel(model.ckpt, squeezeOptions) : await components.squeeze(model.ckpt, squeezeOptions, model.sha256)
  // Receipts count what was really sent (retries and split parts count every copy) and who answered.
  let bytesSent = 0
  const jobsBy = new Map<string, number>()
  const inner = components.miners
  const counted: MinerLink = {
    name: inner.name,
    prepare: async (id, plan, w) => await inner.prepare(id, plan, w),
    async compute (id, inputs, jobId, blocks) {
      const size = inputs.reduce((a, c) => a + c.byteLength, 0)
      const r = await inner.compute(id, inputs, jobId, blocks)
      bytesSent += r.bytesSent ?? size
      for (const m of jobMiners(r, inner.name)) jobsBy.set(m, (jobsBy.get(m) ?? 0) + 1)
      return r
    },
    ...(inner.reject === undefined ? {} : { reject: inner.reject.bind(inner) }),
    ...(inner.setKeys === undefined ? {} : { setKeys: inner.setKeys.bind(inner) })
  }
  // The components stay the caller's (a client keeps its HE worker across models): the
  // backend gets them without their `close`.
  const user = components.session
  const session: HeSession = {
    encrypt: async (p, x) => await user.encrypt(p, x),
    decrypt: async (p, r, e) => await user.decrypt(p, r, e),
    ...(user.encryptBatch === undefined ? {} : { encryptBatch: user.encryptBatch.bind(user) }),
    ...(user.decryptBatch === undefined ? {} : { decryptBatch: user.decryptBatch.bind(user) }),
    ...(user.galoisKeys === undefined ? {} : { galoisKeys: user.galoisKeys.bind(user) }),
    ...(user.rotate === undefined ? {} : { rotate: user.rotate.bind(user) }),
    ...(user.localMatvecs === undefined ? {} : { localMatvecs: user.localMatvecs.bind(user) })
  }
  const padding = opts.padTo === undefined ? undefined : answerPadding(opts.padTo)
  const backend: LinearBackend = await heBackend(squeezed, session, counted, { maxAttempts: opts.maxAttempts ?? 3, onQuantizedInput: opts.onQuantizedInput, ...(padding === undefined ? {} : { padBatch: padding.padBatch }) })
  let busy = false

  return {
    squeezed,
    stats: backend.stats,
    async warmUp () {
      const first = [...squeezed.groups.values()].find(g => g.placement === 'encrypted')?.plans[0] as MatvecPlan | undefined
      if (first !== undefined) await session.encrypt(first, new Int8Array(first.dIn))
    },
    async generate (prompt, settings, cb = {}) {
      if (busy) throw new GenerationBusyError('an answer is already being generated')
      busy = true
      const st = backend.stats
      const before = { ...st }
      const sentBefore = bytesSent
      const jobsBefore = new Map(jobsBy)
      let run
      let padded
      try {
        const engine = privateEngine(squeezed.params, backend)
        const paddedEngine = padding?.wrap(engine)
        run = await runAnswer(paddedEngine ?? engine, model, prompt, settings, cb)
        // the answer's text is out; its bucket is finished before the receipt (a stopped one is not padded)
        if (!run.stopped) padded = await paddedEngine?.finish(cb.signal)
      } finally {
        busy = false
      }
      const miners = [...jobsBy].map(([peerId, n]) => ({ peerId, jobs: n - (jobsBefore.get(peerId) ?? 0) })).filter(m => m.jobs > 0)
      return {
        tokens: run.tokens,
        ms: run.ms,
        promptTokens: run.promptTokens,
        ...(run.firstTokenMs === undefined ? {} : { firstTokenMs: run.firstTokenMs }),
        bytesUp: bytesSent - sentBefore,
        bytesDown: st.bytesDown - before.bytesDown,
        verified: st.verified - before.verified,
        rejected: st.rejected - before.rejected,
        keyRotations: st.keyRotations - before.keyRotations,
        miners,
        rounds: st.rounds - before.rounds,
        layout: squeezed.layout.rounds,
        time: {
          encryptMs: st.encryptMs - before.encryptMs,
          decryptMs: st.decryptMs - before.decryptMs,
          verifyMs: st.verifyMs - before.verifyMs,
          jobsMs: st.linkMs - before.linkMs
        },
        ...(padded === undefined ? {} : { padded }),
        ...(run.stopped ? { stopped: true } : {})
      }
    },
    async close () {
      await backend.close?.()
    }
  }
}
