/**
 * The generation loop of run.c (`generate`), independent of how logits are computed.
 */
import { GenerationOptionsError } from './errors.ts'
import type { Tokenizer } from './tokenizer.ts'
import { sample, type Sampler } from './sampler.ts'

/** Anything that turns (token, position) into next-token logits, keeping its own KV cache. */
export interface LogitsEngine {
  /** Context length: positions are 0 … seqLen − 1. */
  readonly seqLen: number
  /** Logits for the token at `pos`; the returned array may be reused by the next call. */
  forward: (token: number, pos: number) => Float32Array
}

/** One emitted token. */
export interface GeneratedToken {
  /** The token id. */
  readonly token: number
  /** Position it was produced for (the prompt's tokens come first). */
  readonly pos: number
  /** The bytes run.c prints for it (possibly empty, possibly part of a UTF-8 character). */
  readonly bytes: Uint8Array
  /** True while the token is forced by the prompt rather than sampled. */
  readonly fromPrompt: boolean
}

/** What to generate. */
export interface GenerateOptions {
  readonly prompt: string
  /**
   * The prompt's tokens, when the caller has encoded them (e.g. a rendered chat template
   * with special tokens); `prompt` is then ignored. Must not be empty.
   */
  readonly promptTokens?: readonly number[]
  /**
   * Total positions to run, prompt included (run.c's -n). 0 or more than the model's
   * context means the whole context, as in run.c.
   */
  readonly steps: number
  /** Stops between tokens when aborted; the tokens so far stay emitted. */
  readonly signal?: AbortSignal
}

/** run.c's rule for -n: 0 or too large means the model's whole context. */
export function resolveSteps (steps: number, seqLen: number): number {
  if (!Number.isInteger(steps) || steps < 0) throw new GenerationOptionsError(`steps must be a whole number ≥ 0, got ${steps}`)
  return steps === 0 || steps > seqLen ? seqLen : steps
}

/**
 * The state machine of run.c's generation loop, independent of how (and whether
 * synchronously) logits are computed: feed the prompt's tokens, then sample; stop after
 * `steps` positions or when a stop token is sampled (run.c: BOS; GGUF models also their
 * EOS and end-of-turn tokens — `tokenizer.stopIds`).
 */
export interface GenerationCursor {
  /** True when no more forward passes are needed. */
  readonly done: boolean
  /** The token to feed at `pos`. */
  readonly token: number
  /** The position of the next forward pass. */
  readonly pos: number
  /** Positions to run in total. */
  readonly steps: number
  /** Number of prompt tokens (BOS included). */
  readonly promptLength: number
  /** Consume the logits for (token, pos): the emitted token, or undefined when generation stopped on a stop token. */
  advance: (logits: Float32Array) => GeneratedToken | undefined
}

/**
 * The prompt's tokens: given, or encoded with the tokenizer's own BOS rule. A prompt that
 * encodes to nothing (empty text, a tokenizer that adds no BOS) starts from BOS, since a
 * forward pass needs a token.
 */
function promptTokensOf (tokenizer: Tokenizer, opts: GenerateOptions): readonly number[] {
  if (opts.promptTokens !== undefined) {
    if (opts.promptTokens.length === 0) throw new GenerationOptionsError('promptTokens must hold at least one token')
    for (const t of opts.promptTokens) {
      if (!Number.isInteger(t) || t < 0 || t >= tokenizer.vocabSize) throw new GenerationOptionsError(`prompt token ${t} is outside the vocabulary [0, ${tokenizer.vocabSize})`)
    }
    return opts.promptTokens
  }
  const tokens = tokenizer.encode(opts.prompt)
  return tokens.length > 0 ? tokens : [tokenizer.bosId]
}

/** Start a generation: encode the prompt and resolve the step count (run.c's rules). */
export function startGeneration (tokenizer: Tokenizer, sampler: Sampler, opts: GenerateOptions, seqLen: number): GenerationCursor {
  const steps = resolveSteps(opts.steps, seqLen)
  const promptTokens = promptTokensOf(tokenizer, opts)
  let token = promptTokens[0]
  let pos = 0
  let stopped = false
  return {
    get done () { return stopped || pos >= steps },
    get token () { return token },
    get pos () { return pos },
    steps,
    promptLength: promptTokens.length,
    advance (logits) {
      const fromPrompt = pos < promptTokens.length - 1
      const next = fromPrompt ? promptTokens[pos + 1] : sample(sampler, logits)
      pos++
      // run.c also stops on a BOS inside the prompt; a chat prompt holds earlier turns'
      // end tokens, so only sampled tokens stop here.
      if (!fromPrompt && tokenizer.stopIds.has(next)) {
        stopped = true
        return undefined
      }
      const out = { token: next, pos, bytes: tokenizer.decode(token, next), fromPrompt }
      token = next
      return out
    }
  }
}

/**
 * Generate as run.c does: feed the prompt's tokens (starting with BOS), then sample;
 * stop after `steps` positions or when a stop token (run.c: BOS) is sampled. Yields each printed token; the
 * concatenated `bytes` plus a final newline is exactly run.c's standard output.
 */
export function * generate (engine: LogitsEngine, tokenizer: Tokenizer, sampler: Sampler, opts: GenerateOptions): Generator<GeneratedToken> {
  const cursor = startGeneration(tokenizer, sampler, opts, engine.seqLen)
  while (!cursor.done) {
    opts.signal?.throwIfAborted()
    const t = cursor.advance(engine.forward(cursor.token, cursor.pos))
    if (t !== undefined) yield t
  }
}
