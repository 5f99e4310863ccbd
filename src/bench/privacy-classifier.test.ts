import { describe, expect, it } from 'vitest'
import { prng } from '../core/prng.ts'
import { auc, bootstrapAuc, crossValidatedScores, permutationNull, scoreOf, trainLogistic } from './privacy-classifier.ts'

// Gaussian samples (Box–Muller) from a seeded PRNG.
function gaussians (seed: number): () => number {
  const r = prng(seed)
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())
}

/** n samples per class, d features, class 1 shifted by `shift` standard deviations in feature 0. */
function data (n: number, d: number, shift: number, seed: number): { rows: Float64Array[], labels: number[] } {
  const g = gaussians(seed)
  const rows: Float64Array[] = []
  const labels: number[] = []
  for (let i = 0; i < 2 * n; i++) {
    const label = i % 2
    rows.push(Float64Array.from({ length: d }, (_, j) => g() + (j === 0 ? shift * label : 0) + (j === 1 ? 1e6 : 0)))
    labels.push(label)
  }
  return { rows, labels }
}

describe('the privacy bench\'s classifier', () => {
  it('AUC: the Mann–Whitney statistic, ties counting half', () => {
    expect(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1)
    expect(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0)
    expect(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5)
    // one of four (pos, neg) pairs misordered
    expect(auc([0.1, 0.6, 0.4, 0.9], [0, 0, 1, 1])).toBe(0.75)
    expect(auc([0.3, 0.3, 0.2, 0.9], [0, 1, 0, 1])).toBe(0.875) // a tie between classes counts half
    expect(auc([1, 2], [1, 1])).toBeNaN()
  })

  it('logistic regression separates what is separable and finds nothing in noise (cross-validated)', () => {
    const easy = data(40, 6, 4, 1)
    const s1 = crossValidatedScores(easy.rows, easy.labels, 5, 7)
    expect(auc(s1, easy.labels)).toBeGreaterThan(0.97)
    const noise = data(200, 6, 0, 2)
    const s0 = crossValidatedScores(noise.rows, noise.labels, 5, 7)
    const a0 = auc(s0, noise.labels)
    expect(a0).toBeGreaterThan(0.4)
    expect(a0).toBeLessThan(0.6)
    // a modest signal is found, and the interval brackets it
    const some = data(150, 6, 0.8, 3)
    const s = crossValidatedScores(some.rows, some.labels, 5, 7)
    const a = auc(s, some.labels)
    const ci = bootstrapAuc(s, some.labels, 1000, 0.95, 9)
    expect(a).toBeGreaterThan(0.6)
    expect(ci.low).toBeLessThan(a)
    expect(ci.high).toBeGreaterThan(a)
    expect(ci.high - ci.low).toBeLessThan(0.2)
  })

  it('a constant or huge-offset feature does not break training', () => {
    const m = trainLogistic([Float64Array.of(1, 5), Float64Array.of(1, 7)], [0, 1])
    expect(scoreOf(m, Float64Array.of(1, 7))).toBeGreaterThan(scoreOf(m, Float64Array.of(1, 5)))
    expect(Number.isFinite(m.weights[0])).toBe(true)
  })

  it('pairs of near-twins with opposite labels: split apart they make the model anti-learn; grouped they do not', () => {
    const g = gaussians(4)
    const rows: Float64Array[] = []
    const labels: number[] = []
    const groups: number[] = []
    for (let i = 0; i < 40; i++) {
      const common = Array.from({ length: 8 }, () => 5 * g()) // what a pair shares (its length, its seed)
      for (const label of [0, 1]) {
        rows.push(Float64Array.from(common, v => v + 0.1 * g()))
        labels.push(label)
        groups.push(i)
      }
    }
    expect(auc(crossValidatedScores(rows, labels, 5, 1), labels)).toBeLessThan(0.35)
    const grouped = auc(crossValidatedScores(rows, labels, 5, 1, groups), labels)
    expect(Math.abs(grouped - 0.5)).toBeLessThan(0.1)
    // chance, on these samples, is centred on ½ and the grouped AUC sits inside it
    const chance = permutationNull(rows, labels, 5, 1, 40, 2, groups)
    expect(chance.length).toBe(40)
    expect(Math.abs(chance[20] - 0.5)).toBeLessThan(0.1)
    expect(grouped).toBeLessThanOrEqual(chance[39])
    // a cluster bootstrap keeps pairs together and still brackets the estimate
    const s = crossValidatedScores(rows, labels, 5, 1, groups)
    const ci = bootstrapAuc(s, labels, 500, 0.95, 3, groups)
    expect(ci.low).toBeLessThanOrEqual(grouped)
    expect(ci.high).toBeGreaterThanOrEqual(grouped)
  })
})
