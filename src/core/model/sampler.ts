/**
 * run.c's sampler — greedy argmax, multinomial, and top-p (nucleus) — in float32
 * arithmetic with the same loop order, so a seeded run draws the same tokens.
 * Source: karpathy/llama2.c run.c `sample`, `sample_mult`, `sample_topp`, `softmax`.
 */
import { expf, f32 } from './float32.ts'
import { GenerationOptionsError } from './errors.ts'
import { randomF32, type RngState } from './rng.ts'

/** How the next token is chosen. */
export interface SamplerOptions {
  /** 0 = greedy argmax; otherwise logits are divided by it (rounded to float32). */
  readonly temperature: number
  /** Nucleus mass in (0, 1); 0 or 1 means plain multinomial sampling. */
  readonly topp: number
}

/** A sampler: options plus the RNG state it advances. */
export interface Sampler {
  readonly temperature: number
  readonly topp: number
  readonly rng: RngState
}

/**
 * A sampler with float32-rounded options, as run.c stores them.
 * @throws {GenerationOptionsError} for a negative or non-finite temperature, or top-p
 *   outside [0, 1] (run.c silently replaces these; we refuse them).
 */
export function createSampler (opts: SamplerOptions, rng: RngState): Sampler {
  if (!Number.isFinite(opts.temperature) || opts.temperature < 0) throw new GenerationOptionsError(`temperature must be a number ≥ 0, got ${opts.temperature}`)
  if (!Number.isFinite(opts.topp) || opts.topp < 0 || opts.topp > 1) throw new GenerationOptionsError(`top-p must be a number in [0, 1], got ${opts.topp}`)
  return { temperature: f32(opts.temperature), topp: f32(opts.topp), rng }
}

/** Index of the first maximum (NaN never wins), as run.c's `sample_argmax`. */
export function argmax (x: ArrayLike<number>): number {
  let best = 0
  let bestVal = x[0]
  for (let i = 1; i < x.length; i++) {
    if (x[i] > bestVal) {
      best = i
      bestVal = x[i]
    }
  }
  return best
}

/** In-place float32 softmax, as run.c's `softmax`. */
export function softmaxF32 (x: Float32Array, size: number = x.length): void {
  let max = x[0]
  for (let i = 1; i < size; i++) if (x[i] > max) max = x[i]
  let sum = 0
  for (let i = 0; i < size; i++) {
    x[i] = expf(f32(x[i] - max))
    sum = f32(sum + x[i])
  }
  for (let i = 0; i < size; i++) x[i] = f32(x[i] / sum)
}

function sampleMult (p: Float32Array, coin: number): number {
  let cdf = 0
  for (let i = 0; i < p.length; i++) {
    cdf = f32(cdf + p[i])
    if (coin < cdf) return i
  }
  return p.length - 1
}

function sampleTopp (p: Float32Array, topp: number, coin: number): number {
  const n = p.length
  // Tokens below (1 - topp) / (n - 1) cannot be in the nucleus; run.c crops them first.
  const cutoff = f32(f32(1 - topp) / (n - 1))
  const idx: number[] = []
  for (let i = 0; i < n; i++) if (p[i] >= cutoff) idx.push(i)
  // Descending by probability; ties keep index order (glibc qsort is a stable merge sort).
  idx.sort((a, b) => (p[a] > p[b] ? -1 : p[a] < p[b] ? 1 : 0))
  let cumulative = 0
  let last = idx.length - 1
  for (let i = 0; i < idx.length; i++) {
    cumulative = f32(cumulative + p[idx[i]])
    if (cumulative > topp) {
      last = i
      break
    }
  }
  const r = f32(coin * cumulative)
  let cdf = 0
  for (let i = 0; i <= last; i++) {
    cdf = f32(cdf + p[idx[i]])
    if (r < cdf) return idx[i]
  }
  return idx[last]
}

/**
 * Choose the next token from `logits`, advancing the RNG only when sampling (as run.c).
 * `logits` is overwritten with probabilities when temperature > 0.
 */
export function sample (s: Sampler, logits: Float32Array): number {
  if (s.temperature === 0) return argmax(logits)
  for (let i = 0; i < logits.length; i++) logits[i] = f32(logits[i] / s.temperature)
  softmaxF32(logits)
  const coin = randomF32(s.rng)
  if (s.topp <= 0 || s.topp >= 1) return sampleMult(logits, coin)
  return sampleTopp(logits, s.topp, coin)
}
