/**
 * What W8A8 quantization costs, measured: a quantized engine against the float32 engine,
 * teacher-forced on held-out text.
 *
 * The held-out text is sampled from the float32 model itself (fixed seeds, temperature 1,
 * top-p 0.9), so the float32 perplexity is measured on its own samples and is optimistic;
 * the comparison between the two engines on the same text is what matters.
 *
 * Variants: today's W8A8 plan (gains folded, and not), and the round-fused plan (issue 12:
 * two round trips per layer; products of two matrices requantized per output channel,
 * each job input quantized on its own), run by the plaintext twin of the encrypted backend.
 */
import type { Checkpoint } from './checkpoint.ts'
import { f32Engine, w8a8Engine } from './engines.ts'
import { generate, type LogitsEngine } from './generate.ts'
import { createRng } from './rng.ts'
import { argmax, createSampler } from './sampler.ts'
import type { Tokenizer } from './tokenizer.ts'
import { quantizeModel } from './w8a8.ts'
import { squeezeModel } from '../squeeze/squeeze.ts'
import { squeezedEngine } from '../engine/plain-backend.ts'

/** Options of {@link evalQuant}. */
export interface EvalQuantOptions {
  /** Number of held-out sequences (one per seed 1…n). Default 16. */
  readonly sequences?: number
  /** Positions per sequence, BOS included (capped at the model's context). Default 256. */
  readonly steps?: number
  /** Called after each sequence, for progress output. */
  readonly onProgress?: (done: number, total: number) => void
}

/** The numbers for one quantized variant against float32. */
export interface QuantVariantReport {
  readonly name: string
  readonly description: string
  /** Fraction of positions where both engines' most likely next token agree. */
  readonly top1Agreement: number
  /** Mean KL(p_f32 ‖ p_quant) over positions, in nats. */
  readonly meanKl: number
  /** Perplexity of the quantized engine on the held-out tokens. */
  readonly perplexity: number
  /** (perplexity − f32 perplexity) / f32 perplexity. */
  readonly perplexityChange: number
  /** Greedy generation from BOS: how many leading tokens equal the float32 engine's. */
  readonly greedyPrefixAgreement: number
  /** Greedy generation from BOS: how many positions hold the same token. */
  readonly greedySamePositions: number
  /** Length of the float32 greedy generation compared against. */
  readonly greedyLength: number
}

/** The full report. */
export interface QuantReport {
  readonly positions: number
  readonly sequences: number
  readonly f32Perplexity: number
  readonly variants: readonly QuantVariantReport[]
}

// log-softmax of logits (n,) into out (n,), in float64
function logSoftmax (logits: Float32Array, out: Float64Array): void {
  let max = -Infinity
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i]
  let sum = 0
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max)
  const lse = max + Math.log(sum)
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse
}

function greedy (engine: LogitsEngine, tokenizer: Tokenizer, steps: number): number[] {
  const sampler = createSampler({ temperature: 0, topp: 0 }, createRng(1))
  return [...generate(engine, tokenizer, sampler, { prompt: '', steps })].map(t => t.token)
}

/** Teacher-forced comparison of W8A8 (folded and unfolded RMSNorm gains, round-fused) against float32. */
export function evalQuant (ckpt: Checkpoint, tokenizer: Tokenizer, opts: EvalQuantOptions = {}): QuantReport {
  const nSeq = opts.sequences ?? 16
  const steps = Math.min(opts.steps ?? 256, ckpt.config.seqLen)
  const vocab = ckpt.config.vocabSize
  // Held-out text: float32 samples, seeds 1..nSeq.
  const texts: number[][] = []
  for (let seed = 1; seed <= nSeq; seed++) {
    const sampler = createSampler({ temperature: 1, topp: 0.9 }, createRng(seed))
    const toks = [tokenizer.bosId, ...[...generate(f32Engine(ckpt), tokenizer, sampler, { prompt: '', steps })].map(t => t.token)]
    texts.push(toks)
  }
  const folded = quantizeModel(ckpt, { foldNorms: true })
  const unfolded = quantizeModel(ckpt, { foldNorms: false })
  const fusedPlan = squeezeModel(ckpt, { rounds: 'fused' })
  const variants = [
    { name: 'w8a8', description: 'int8 weights (per output channel), int8 activations (per token), RMSNorm gains folded', engine: (): LogitsEngine => w8a8Engine(folded) },
    { name: 'w8a8-unfolded', description: 'int8 weights (per output channel), int8 activations (per token), RMSNorm gains kept separate', engine: (): LogitsEngine => w8a8Engine(unfolded) },
    { name: 'w8a8-fused', description: 'round-fused plan (2 round trips per layer): fused products requantized to int8 per output channel, each job input int8 on its own', engine: (): LogitsEngine => squeezedEngine(fusedPlan) }
  ].map(v => ({ ...v, agree: 0, kl: 0, nll: 0 }))
  let positions = 0
  let f32Nll = 0
  const lpRef = new Float64Array(vocab)
  const lpQ = new Float64Array(vocab)
  texts.forEach((toks, si) => {
    const ref = f32Engine(ckpt)
    const quant = variants.map(v => v.engine())
    for (let pos = 0; pos + 1 < toks.length; pos++) {
      const next = toks[pos + 1]
      const lr = ref.forward(toks[pos], pos)
      const refTop = argmax(lr)
      logSoftmax(lr, lpRef)
      f32Nll -= lpRef[next]
      variants.forEach((v, vi) => {
        const lq = quant[vi].forward(toks[pos], pos)
        if (argmax(lq) === refTop) v.agree++
        logSoftmax(lq, lpQ)
        let kl = 0
        for (let i = 0; i < vocab; i++) kl += Math.exp(lpRef[i]) * (lpRef[i] - lpQ[i])
        v.kl += kl
        v.nll -= lpQ[next]
      })
      positions++
    }
    opts.onProgress?.(si + 1, texts.length)
  })
  const f32Ppl = Math.exp(f32Nll / positions)
  const refGreedy = greedy(f32Engine(ckpt), tokenizer, 256)
  return {
    positions,
    sequences: nSeq,
    f32Perplexity: f32Ppl,
    variants: variants.map(v => {
      const g = greedy(v.engine(), tokenizer, 256)
      let prefix = 0
      while (prefix < refGreedy.length && g[prefix] === refGreedy[prefix]) prefix++
      const same = refGreedy.filter((t, i) => g[i] === t).length
      const ppl = Math.exp(v.nll / positions)
      return {
        name: v.name,
        description: v.description,
        top1Agreement: v.agree / positions,
        meanKl: v.kl / positions,
        perplexity: ppl,
        perplexityChange: (ppl - f32Ppl) / f32Ppl,
        greedyPrefixAgreement: prefix,
        greedySamePositions: same,
        greedyLength: refGreedy.length
      }
    })
  }
}
