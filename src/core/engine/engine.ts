/**
 * The private inference engine: the model's forward pass on the user's side, every
 * linear layer through a {@link LinearBackend}, streaming tokens with cancellation and
 * progress.
 */
import { createRunState, forwardProgram, type TransformerParams } from '../model/forward.ts'
import { startGeneration, type GenerateOptions, type GeneratedToken } from '../model/generate.ts'
import type { Sampler } from '../model/sampler.ts'
import type { Tokenizer } from '../model/tokenizer.ts'
import { GenerationOptionsError } from '../model/errors.ts'
import { runForwardAsync, type LinearBackend } from './backend.ts'

/** A forward pass whose linear layers may be computed elsewhere. */
export interface AsyncLogitsEngine {
  readonly seqLen: number
  readonly backend: LinearBackend
  /** Logits for the token at `pos` (the array is reused by the next call). */
  forward: (token: number, pos: number, signal?: AbortSignal) => Promise<Float32Array>
}

/** An engine over `params` (embedding and norms, on the user's side) and a backend. */
export function privateEngine (params: TransformerParams, backend: LinearBackend): AsyncLogitsEngine {
  const c = params.config
  const state = createRunState(c)
  return {
    seqLen: c.seqLen,
    backend,
    async forward (token, pos, signal) {
      if (!Number.isInteger(pos) || pos < 0 || pos >= c.seqLen) throw new GenerationOptionsError(`position ${pos} is outside the model's context [0, ${c.seqLen})`)
      if (!Number.isInteger(token) || token < 0 || token >= c.vocabSize) throw new GenerationOptionsError(`token ${token} is outside the vocabulary [0, ${c.vocabSize})`)
      return await runForwardAsync(forwardProgram(params, state, token, pos), backend, signal)
    }
  }
}

/** Progress of a generation, for the UI. */
export interface GenerationProgress {
  readonly pos: number
  readonly steps: number
  /** 'prompt' while the prompt's tokens are being fed, then 'answer'. */
  readonly phase: 'prompt' | 'answer'
}

/** Options of {@link generateAsync}. */
export interface AsyncGenerateOptions extends GenerateOptions {
  readonly onProgress?: (p: GenerationProgress) => void
}

/**
 * run.c's generation loop over an asynchronous engine: the same tokens as the synchronous
 * `generate` for the same logits. Stops between linear layers when aborted.
 */
export async function * generateAsync (engine: AsyncLogitsEngine, tokenizer: Tokenizer, sampler: Sampler, opts: AsyncGenerateOptions): AsyncGenerator<GeneratedToken> {
  const cursor = startGeneration(tokenizer, sampler, opts, engine.seqLen)
  while (!cursor.done) {
    opts.signal?.throwIfAborted()
    opts.onProgress?.({ pos: cursor.pos, steps: cursor.steps, phase: cursor.pos < cursor.promptLength - 1 ? 'prompt' : 'answer' })
    const t = cursor.advance(await engine.forward(cursor.token, cursor.pos, opts.signal))
    if (t !== undefined) yield t
  }
}
