/**
 * The private inference engine: the model's forward pass on the user's side, every
 * linear layer through a {@link LinearBackend} in the backend's round layout, streaming
 * tokens with cancellation and progress. The prompt goes through in one batched pass
 * (one round per layer step for all its tokens, not one per token); the answer one token
 * at a time.
 */
import { createRunState, forwardRounds, UNFUSED, type TransformerParams } from '../model/forward.ts'
import { startGeneration, type GenerateOptions, type GeneratedToken } from '../model/generate.ts'
import type { Sampler } from '../model/sampler.ts'
import type { Tokenizer } from '../model/tokenizer.ts'
import { GenerationOptionsError } from '../model/errors.ts'
import { runRoundsAsync, type LinearBackend } from './backend.ts'

/** A forward pass whose linear layers may be computed elsewhere. */
export interface AsyncLogitsEngine {
  readonly seqLen: number
  readonly backend: LinearBackend
  /** Logits for the token at `pos` (the array is reused by the next call). */
  forward: (token: number, pos: number, signal?: AbortSignal) => Promise<Float32Array>
  /**
   * Feed `tokens` at positions [pos0, pos0 + tokens.length) in one batched pass; the
   * logits of the last one, bit for bit what feeding them one by one gives.
   */
  prefill?: (tokens: readonly number[], pos0: number, signal?: AbortSignal) => Promise<Float32Array>
}

/** An engine over `params` (embedding and norms, on the user's side) and a backend. */
export function privateEngine (params: TransformerParams, backend: LinearBackend): AsyncLogitsEngine {
  const c = params.config
  const state = createRunState(c)
  const layout = backend.layout ?? UNFUSED
  const check = (token: number, pos: number): void => {
    if (!Number.isInteger(pos) || pos < 0 || pos >= c.seqLen) throw new GenerationOptionsError(`position ${pos} is outside the model's context [0, ${c.seqLen})`)
    if (!Number.isInteger(token) || token < 0 || token >= c.vocabSize) throw new GenerationOptionsError(`token ${token} is outside the vocabulary [0, ${c.vocabSize})`)
  }
  return {
    seqLen: c.seqLen,
    backend,
    async forward (token, pos, signal) {
      check(token, pos)
      return await runRoundsAsync(forwardRounds(params, state, [token], pos, layout), backend, signal)
    },
    async prefill (tokens, pos0, signal) {
      if (tokens.length === 0) throw new GenerationOptionsError('prefill needs at least one token')
      tokens.forEach((t, i) => { check(t, pos0 + i) })
      return await runRoundsAsync(forwardRounds(params, state, tokens, pos0, layout), backend, signal)
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

// advance() reads no logits at a position whose next token the prompt forces.
const UNREAD = new Float32Array(0)

/**
 * run.c's generation loop over an asynchronous engine: the same tokens as the synchronous
 * `generate` for the same logits. The prompt's tokens are forced and only the last
 * prompt position's logits are sampled, so an engine with `prefill` feeds the prompt in one
 * batched pass (its tokens are printed once it is done), then one token at a time. Stops
 * between rounds when aborted.
 */
export async function * generateAsync (engine: AsyncLogitsEngine, tokenizer: Tokenizer, sampler: Sampler, opts: AsyncGenerateOptions): AsyncGenerator<GeneratedToken> {
  const cursor = startGeneration(tokenizer, sampler, opts, engine.seqLen)
  if (engine.prefill !== undefined && cursor.promptLength > 1) {
    // Walk the forced positions (no logits needed), then compute them and the last one at once.
    const tokens: number[] = []
    const forced: GeneratedToken[] = []
    while (!cursor.done && cursor.pos < cursor.promptLength - 1) {
      opts.signal?.throwIfAborted()
      opts.onProgress?.({ pos: cursor.pos, steps: cursor.steps, phase: 'prompt' })
      tokens.push(cursor.token)
      const t = cursor.advance(UNREAD)
      if (t !== undefined) forced.push(t)
    }
    if (!cursor.done) {
      opts.onProgress?.({ pos: cursor.pos, steps: cursor.steps, phase: 'answer' })
      const logits = await engine.prefill([...tokens, cursor.token], 0, opts.signal)
      for (const t of forced) {
        opts.signal?.throwIfAborted()
        yield t
      }
      opts.signal?.throwIfAborted()
      const t = cursor.advance(logits)
      if (t !== undefined) yield t
    } else {
      // Stopped inside the prompt (steps, or BOS in it): run.c computed those positions too.
      if (tokens.length > 0) await engine.prefill(tokens, 0, opts.signal)
      for (const t of forced) {
        opts.signal?.throwIfAborted()
        yield t
      }
    }
  }
  while (!cursor.done) {
    opts.signal?.throwIfAborted()
    opts.onProgress?.({ pos: cursor.pos, steps: cursor.steps, phase: cursor.pos < cursor.promptLength - 1 ? 'prompt' : 'answer' })
    const t = cursor.advance(await engine.forward(cursor.token, cursor.pos, opts.signal))
    if (t !== undefined) yield t
  }
}
