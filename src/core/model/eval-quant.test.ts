import { describe, expect, it } from 'vitest'
import { parseCheckpoint } from './checkpoint.ts'
import { evalQuant } from './eval-quant.ts'
import { stories260K } from '../../test/fixtures.ts'
import { parseTokenizer } from './tokenizer.ts'

describe('evalQuant', () => {
  it('reports agreement, KL and perplexity for both W8A8 variants on stories260K', () => {
    const f = stories260K()
    const ckpt = parseCheckpoint(f.model)
    const progress: number[] = []
    const r = evalQuant(ckpt, parseTokenizer(f.tokenizer, 512), { sequences: 2, steps: 64, onProgress: d => progress.push(d) })
    expect(progress).toEqual([1, 2])
    expect(r.positions).toBeGreaterThan(60)
    expect(r.positions).toBeLessThanOrEqual(2 * 64)
    expect(r.f32Perplexity).toBeGreaterThan(1)
    expect(r.variants.map(v => v.name)).toEqual(['w8a8', 'w8a8-unfolded'])
    for (const v of r.variants) {
      // W8A8 on this model is close to float32 (measured: ~98 % agreement, KL ~0.0015).
      expect(v.top1Agreement).toBeGreaterThan(0.9)
      expect(v.meanKl).toBeGreaterThan(0)
      expect(v.meanKl).toBeLessThan(0.02)
      expect(Math.abs(v.perplexityChange)).toBeLessThan(0.05)
      expect(v.greedyPrefixAgreement).toBeGreaterThanOrEqual(10)
      expect(v.greedyPrefixAgreement).toBeLessThanOrEqual(v.greedySamePositions)
    }
  })
})
