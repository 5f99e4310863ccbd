/**
 * What the GGUF storage formats cost on stories260K, against its float32 weights: the same
 * measurement as eval-quant.ts (teacher-forced on float32 samples: top-1 agreement, mean
 * KL, perplexity). Q4_K needs rows of 256 and stories260K's are 64 and 172 wide, so Q4_K
 * (and, for comparison, Q4_0 and Q8_0) is also measured on each tensor quantized as one
 * flat run of blocks — the rounding error per block is the same. In GGUF layout, ffn_down
 * (rows of 172) falls back to F16, as llama-quantize does.
 *
 * The test runs 4 sequences × 128 positions; docs/02-the-model.md quotes 16 × 256:
 * `CERBERUS_QUALITY_SEQUENCES=16 CERBERUS_QUALITY_STEPS=256 npx vitest run src/core/model/gguf-quality.test.ts`
 * prints that table.
 */
import { describe, expect, it } from 'vitest'
import { encodeTensor, writeGguf, type WritableType } from '../../test/gguf-writer.ts'
import { stories260KGguf, storiesCheckpoint } from '../../test/stories-gguf.ts'
import type { Checkpoint, CheckpointWeights } from './checkpoint.ts'
import { f32Engine } from './engines.ts'
import { generate } from './generate.ts'
import { parseGguf } from './gguf.ts'
import { ggufCheckpoint } from './gguf-checkpoint.ts'
import { ggmlTypeByName } from './gguf-types.ts'
import { readTensorF32 } from './gguf-tensors.ts'
import { createRng } from './rng.ts'
import { argmax, createSampler } from './sampler.ts'
import { stories260K } from '../../test/fixtures.ts'
import { parseTokenizer } from './tokenizer.ts'

const SEQUENCES = Number(process.env.CERBERUS_QUALITY_SEQUENCES ?? 4)
const STEPS = Number(process.env.CERBERUS_QUALITY_STEPS ?? 128)

const ref = storiesCheckpoint()
const tok = parseTokenizer(stories260K().tokenizer, 512)

/** Each matrix quantized as one flat run of blocks and read back through the GGUF reader. */
function flat (type: WritableType): Checkpoint {
  const w: Partial<Record<keyof CheckpointWeights, Float32Array>> = {}
  for (const [k, x] of Object.entries(ref.weights) as Array<[keyof CheckpointWeights, Float32Array]>) {
    if (k === 'rmsAtt' || k === 'rmsFfn' || k === 'rmsFinal') { w[k] = x; continue }
    const f = parseGguf(writeGguf({ metadata: [], tensors: [{ name: k, dims: [x.length], typeId: ggmlTypeByName(type)?.id ?? 0, raw: encodeTensor(type, x) }] }))
    w[k] = readTensorF32(f, f.tensors[0])
  }
  w.wcls = w.tokenEmbedding
  return { config: ref.config, weights: w as CheckpointWeights }
}

function logSoftmax (l: Float32Array): Float64Array {
  let max = -Infinity
  for (const v of l) max = Math.max(max, v)
  let sum = 0
  for (const v of l) sum += Math.exp(v - max)
  return Float64Array.from(l, v => v - max - Math.log(sum))
}

interface Cost { top1: number, kl: number, pplChange: number }

function measure (ckpt: Checkpoint, texts: number[][]): Cost {
  let agree = 0; let kl = 0; let n = 0; let nllRef = 0; let nll = 0
  for (const t of texts) {
    const a = f32Engine(ref)
    const b = f32Engine(ckpt)
    for (let p = 0; p + 1 < t.length; p++) {
      const la = a.forward(t[p], p)
      const lb = b.forward(t[p], p)
      if (argmax(la) === argmax(lb)) agree++
      const pa = logSoftmax(la)
      const pb = logSoftmax(lb)
      for (let i = 0; i < pa.length; i++) kl += Math.exp(pa[i]) * (pa[i] - pb[i])
      nllRef -= pa[t[p + 1]]
      nll -= pb[t[p + 1]]
      n++
    }
  }
  return { top1: agree / n, kl: kl / n, pplChange: Math.exp(nll / n) / Math.exp(nllRef / n) - 1 }
}

describe('what GGUF storage costs on stories260K (teacher-forced against float32)', () => {
  const texts = Array.from({ length: SEQUENCES }, (_, i) => {
    const sampler = createSampler({ temperature: 1, topp: 0.9 }, createRng(i + 1))
    return [tok.bosId, ...[...generate(f32Engine(ref), tok, sampler, { prompt: '', steps: STEPS })].map(t => t.token)]
  })
  const variants: Array<[string, () => Checkpoint, { top1: number, kl: number }]> = [
    ['F16', () => ggufCheckpoint(parseGguf(stories260KGguf({ type: 'F16' }))), { top1: 0.99, kl: 1e-4 }],
    ['Q8_0', () => ggufCheckpoint(parseGguf(stories260KGguf({ type: 'Q8_0' }))), { top1: 0.97, kl: 5e-3 }],
    ['Q4_0', () => ggufCheckpoint(parseGguf(stories260KGguf({ type: 'Q4_0' }))), { top1: 0.75, kl: 0.25 }],
    ['Q8_0 flat', () => flat('Q8_0'), { top1: 0.97, kl: 5e-3 }],
    ['Q4_0 flat', () => flat('Q4_0'), { top1: 0.75, kl: 0.25 }],
    ['Q4_K flat', () => flat('Q4_K'), { top1: 0.75, kl: 0.25 }]
  ]
  const rows: string[] = []
  for (const [name, make, bound] of variants) {
    it(`${name}: top-1 agreement ≥ ${bound.top1}, mean KL ≤ ${bound.kl}`, () => {
      const c = measure(make(), texts)
      rows.push(`| ${name} | ${(100 * c.top1).toFixed(1)} % | ${c.kl.toExponential(1)} | ${c.pplChange >= 0 ? '+' : ''}${(100 * c.pplChange).toFixed(1)} % |`)
      if (process.env.CERBERUS_QUALITY_SEQUENCES !== undefined) console.info(rows.at(-1))
      expect(c.top1).toBeGreaterThanOrEqual(bound.top1)
      expect(c.kl).toBeLessThanOrEqual(bound.kl)
    })
  }
})
