/**
 * Local mode: an answer generated on this device, in plaintext — nothing leaves it, so
 * there is nothing to encrypt or verify. It runs the encrypted pipeline's own plaintext
 * twin (the squeezed W8A8 engine, the same plan: fused, folded, quantized), so a greedy
 * local answer is exactly the private one. Used when no miner serves the model, or when
 * the user chooses it (the page's "Generate on this device", `cerberus serve --local`).
 *
 * This is the in-thread implementation: it yields to the event loop every
 * {@link LOCAL_YIELD_MS} so a server (or a worker's message port: a stop request) stays
 * responsive. Pages run it in a Web Worker (local-generation.web.ts), never on the UI thread.
 */
import { privateEngine, squeezedW8a8Backend, type LinearBackend } from '../core/engine/index.ts'
import { NETWORKS, type NetworkProfile } from '../core/he/index.ts'
import { squeezeModel, type SqueezeRequestOptions } from '../core/squeeze/index.ts'
import { runAnswer, type GenerationCallbacks, type GenerationModel, type GenerationSettings } from './answer-loop.ts'
import { GenerationBusyError } from './private-generation.ts'
import type { AnswerReceipt } from './types.ts'

/**
 * Longest run of plaintext work between two yields to the event loop: short enough that an
 * HTTP server answers other requests (and a worker reads "stop") within a frame, long
 * enough that stories260K (~1 ms per token) loses nothing measurable to the yields.
 */
export const LOCAL_YIELD_MS = 16

/** The words every local answer is labelled with, wherever it is shown. */
export const LOCAL_MODE_LABEL = 'Nothing leaves this device; no encryption needed'

/** Options of {@link createLocalGeneration}: the plan is the one the private pipeline would use, so the text is the same. */
export interface LocalGenerationOptions {
  /** The network the twin's plan is made for (default lan, as the private pipeline's). */
  readonly network?: NetworkProfile
  readonly squeeze?: Omit<SqueezeRequestOptions, 'network'>
}

/** Generation on this device. */
export interface LocalGeneration {
  /** One answer and its receipt (`local: true`, nothing sent). Rejects on errors, resolves when stopped. */
  generate: (prompt: string, settings: GenerationSettings, callbacks?: GenerationCallbacks) => Promise<AnswerReceipt>
  close: () => Promise<void>
}

/** A backend that lets the event loop run between its rounds once {@link LOCAL_YIELD_MS} of work has passed. */
function yielding (inner: LinearBackend): LinearBackend {
  let last = performance.now()
  const breathe = async (): Promise<void> => {
    if (performance.now() - last < LOCAL_YIELD_MS) return
    await new Promise(resolve => setTimeout(resolve, 0))
    last = performance.now()
  }
  return {
    name: inner.name,
    stats: inner.stats,
    ...(inner.layout === undefined ? {} : { layout: inner.layout }),
    async run (req, signal) { await breathe(); await inner.run(req, signal) },
    async runRound (round, signal) { await breathe(); await inner.runRound(round, signal) }
  }
}

/** The receipt of a local answer: only its length and time; nothing was sent, encrypted or verified. */
export function localReceipt (run: { tokens: number, ms: number, stopped: boolean, promptTokens?: number, firstTokenMs?: number }): AnswerReceipt {
  return { tokens: run.tokens, ms: run.ms, ...(run.promptTokens === undefined ? {} : { promptTokens: run.promptTokens }), ...(run.firstTokenMs === undefined ? {} : { firstTokenMs: run.firstTokenMs }), bytesUp: 0, bytesDown: 0, verified: 0, rejected: 0, miners: [], local: true, ...(run.stopped ? { stopped: true } : {}) }
}

/** Local generation for `model`, in this thread. */
export function createLocalGeneration (model: GenerationModel, opts: LocalGenerationOptions = {}): LocalGeneration {
  const squeezed = squeezeModel(model.ckpt, { ...opts.squeeze, network: opts.network ?? NETWORKS.lan })
  let busy = false
  return {
    async generate (prompt, settings, cb = {}) {
      if (busy) throw new GenerationBusyError('an answer is already being generated')
      busy = true
      try {
        return localReceipt(await runAnswer(privateEngine(squeezed.params, yielding(squeezedW8a8Backend(squeezed))), model, prompt, settings, cb))
      } finally {
        busy = false
      }
    },
    async close () {}
  }
}
