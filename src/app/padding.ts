/**
 * Length padding (issue 16, optional): what a miner learns of an answer is the number and
 * size of its jobs, and their timing. Job sizes are constant per matrix whatever the values
 * (exactly sized wire formats), so what remains is length: the prompt's token count (its
 * batched pass sends that many vectors per matrix) and the answer's (one pass per token).
 * Padding rounds both up to a bucket of `padTo` tokens:
 *
 * - the prompt's pass sends bucket(T) vectors per encrypted matrix: the extra ones are dummy
 *   jobs (zero vectors) in the same rounds as the real ones, encrypted, verified and
 *   retried exactly like them (he-backend.ts `padBatch`), their results discarded — no
 *   dummy position enters the model, so the output is unchanged;
 * - after the answer, dummy decode passes (the last real token again, at its position; the
 *   answer is over, so their logits are not read) until the passes fill the bucket — each
 *   the same rounds of the same jobs as a real token's.
 *
 * Bounds: the prompt and answer lengths are visible to within a bucket; the user's own time
 * per round still grows a little with the real prompt length (attention over T positions),
 * which `cerberus bench privacy` measures. A stopped answer is not padded.
 */
import type { AsyncLogitsEngine } from '../core/engine/index.ts'
import { CerberusError } from '../core/errors.ts'

/** Bounds of the padding option. */
export const PADDING_LIMITS = Object.freeze({
  /** The bucket the issue asks for: a prompt or answer length is visible to within 32 tokens. */
  defaultBucket: 32,
  /** Largest bucket: a whole context of the models we serve (stories260K 512, small GGUFs 2,048–8,192). */
  maxBucket: 8192
})

/** A padding bucket that is not a whole number of tokens in [1, maxBucket]. */
export class PaddingOptionsError extends CerberusError {
  constructor (message: string) {
    super('PADDING_OPTIONS', message)
  }
}

/** `n` rounded up to a whole number of buckets (at least one). */
export function bucketOf (n: number, size: number): number {
  return Math.max(1, Math.ceil(n / size)) * size
}

/** What the miners saw of one padded answer, in tokens. */
export interface PaddedLengths {
  /** Vectors per matrix in the prompt's pass. */
  readonly prompt: number
  /** Passes: the prompt's and one per decoded token, dummies included. */
  readonly answer: number
}

/** An engine whose passes are counted, with the dummy passes that finish an answer's bucket. */
export interface PaddedEngine extends AsyncLogitsEngine {
  /** Run the dummy passes; undefined when no pass ran. */
  finish: (signal?: AbortSignal) => Promise<PaddedLengths | undefined>
}

/** Padding of one private generation: the backend's `padBatch`, and a wrapper per answer's engine. */
export interface AnswerPadding {
  readonly padBatch: (vectors: number) => number
  wrap: (engine: AsyncLogitsEngine) => PaddedEngine
}

/**
 * Padding to buckets of `padTo` tokens.
 * @throws {PaddingOptionsError} for a bucket that is not an integer in [1, maxBucket].
 */
export function answerPadding (padTo: number): AnswerPadding {
  if (!Number.isInteger(padTo) || padTo < 1 || padTo > PADDING_LIMITS.maxBucket) throw new PaddingOptionsError(`the padding bucket must be a whole number of tokens from 1 to ${PADDING_LIMITS.maxBucket}, not ${padTo}`)
  // Whether the pass running now is an answer's first (its prompt's): only its rounds are padded.
  let inPrompt = false
  const promptPass = async <T>(first: boolean, run: () => Promise<T>): Promise<T> => {
    inPrompt = first
    try {
      return await run()
    } finally {
      inPrompt = false
    }
  }
  return {
    padBatch: vectors => (inPrompt ? bucketOf(vectors, padTo) : vectors),
    wrap (engine) {
      let promptLength = 0
      let passes = 0
      let last: { token: number, pos: number } | undefined
      const padded: PaddedEngine = {
        seqLen: engine.seqLen,
        backend: engine.backend,
        async forward (token, pos, signal) {
          if (pos === 0) promptLength = 1
          passes++
          last = { token, pos }
          return await promptPass(pos === 0, async () => await engine.forward(token, pos, signal))
        },
        async finish (signal) {
          if (last === undefined) return undefined
          const target = bucketOf(passes, padTo)
          for (; passes < target; passes++) await engine.forward(last.token, last.pos, signal)
          return { prompt: bucketOf(promptLength, padTo), answer: target }
        }
      }
      const prefill = engine.prefill
      if (prefill === undefined) return padded
      return {
        ...padded,
        async prefill (tokens, pos0, signal) {
          if (pos0 === 0) promptLength = tokens.length
          passes++
          last = { token: tokens[tokens.length - 1], pos: pos0 + tokens.length - 1 }
          return await promptPass(pos0 === 0, async () => await prefill.call(engine, tokens, pos0, signal))
        }
      }
    }
  }
}
