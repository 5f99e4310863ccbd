import { describe, expect, it } from 'vitest'
import { parseCheckpoint } from './checkpoint.ts'
import { evalQuant } from './eval-quant.ts'
import { stories260K } from '../../test/fixtures.ts'
import { parseTokenizer } from './tokenizer.ts'

describe('evalQuant', () => {
  it('reports agreement, KL and perplexity for the W8A8 variants (today\'s plans and the round-fused one) on stories260K', () => {
    const f = stories260K()
    const ckpt = parseCheckpoint(f.model)
    const progress: number[] = []
    const r = evalQuant(ckpt, parseTokenizer(f.tokenizer, 512), { sequences: 2, steps: 64, onProgress: d => progress.push(d) })
    expect(progress).toEqual([1, 2])
    expect(r.positions).toBeGreaterThan(60)
    expect(r.positions).toBeLessThanOrEqual(2 * 64)
    expect(r.f32Perplexity).toBeGreaterThan(1)
    expect(r.variants.map(v => v.name)).toEqual(['w8a8', 'w8a8-unfolded', 'w8a8-fused'])
    for (const v of r.variants) {
      // W8A8 on this model is close to float32 (measured: ~98 % agreement, KL ~0.0015).
      expect(v.top1Agreement).toBeGreaterThan(0.9)
      expect(v.meanKl).toBeGreaterThan(0)
      expect(v.meanKl).toBeLessThan(0.02)
      expect(Math.abs(v.perplexityChange)).toBeLessThan(0.05)
      expect(v.greedyPrefixAgreement).toBeGreaterThanOrEqual(10)
      expect(v.greedyPrefixAgreement).toBeLessThanOrEqual(v.greedySamePositions)
    }
    // The fused plan's goal (issue 12), on 16 × 256 positions: top-1 ≥ 97.5 %, perplexity
    // ≤ +0.5 % (measured 98.27 %, +0.16 %; today's plan 97.96 %, +0.25 %). On these two short
    // sequences, with a margin for their noise:
    const fused = r.variants[2]
    expect(fused.top1Agreement).toBeGreaterThan(0.95)
    expect(fused.perplexityChange).toBeLessThan(0.01)
    expect(fused.meanKl).toBeLessThan(2 * r.variants[0].meanKl)
  })
})
