import { describe, expect, it } from 'vitest'
import { makePlan } from './plan.ts'
import { NETWORKS, planMatvec, splitWays } from './planner.ts'
import { RING_PRESETS } from './params.ts'

describe('splitting one job across miners', () => {
  const plan768 = makePlan(2304, 768, RING_PRESETS.n2048, 32) // a 768-dim model's fused q|k|v
  it('pays on loopback (miner time dominates), not over a 4 MB/s link (resending the inputs costs more)', () => {
    expect(splitWays(plan768, NETWORKS.loopback, 2)).toBe(2)
    expect(splitWays(plan768, NETWORKS.lan, 2)).toBe(1)
    expect(splitWays(plan768, NETWORKS.wan, 2)).toBe(1)
  })
  it('never more parts than miners, blocks or maxWays', () => {
    expect(splitWays(plan768, NETWORKS.loopback, 1)).toBe(1)
    expect(splitWays(plan768, NETWORKS.loopback, 8, 3)).toBeLessThanOrEqual(3)
    const tiny = makePlan(64, 64, RING_PRESETS.n2048, 64)
    expect(splitWays(tiny, NETWORKS.loopback, 8, 8)).toBeLessThanOrEqual(tiny.split.blocks)
  })
})

describe('choosing between the coefficient and the packed scheme', () => {
  const weights = (o: number, i: number): Int8Array => new Int8Array(o * i).map((_, k) => ((k * 7919) % 255) - 127)
  it('keeps coefficient plans by default (no keys)', () => {
    expect(planMatvec(768, 768).plan.scheme).toBe('coeff')
  })
  it('auto: a tiny matrix stays coefficient; a 768-dim one is packed on lan, both explained', () => {
    const tiny = planMatvec(64, 64, { scheme: 'auto', weights: weights(64, 64), network: NETWORKS.lan })
    expect(tiny.plan.scheme).toBe('coeff')
    expect(tiny.considered?.map(c => c.plan.scheme)).toEqual(['coeff', 'packed'])
    const big = planMatvec(768, 768, { scheme: 'auto', weights: weights(768, 768), network: NETWORKS.lan })
    expect(big.plan.scheme).toBe('packed')
    const [coeff, packed] = big.considered ?? []
    expect(packed.predicted.bytesUp + packed.predicted.bytesDown).toBeLessThan((coeff.predicted.bytesUp + coeff.predicted.bytesDown) / 5)
    expect(packed.predicted.galoisKeyBytes).toBeGreaterThan(0)
    expect(coeff.predicted.galoisKeyBytes).toBe(0)
  })
  it('packed plans made with the weights reach deeper orbits than plans for any matrix', () => {
    const w = weights(768, 768)
    const any = planMatvec(768, 768, { scheme: 'packed', network: NETWORKS.lan }).plan
    const own = planMatvec(768, 768, { scheme: 'packed', network: NETWORKS.lan, weights: w }).plan
    expect(own.packed?.layout.orbitLevels).toBeGreaterThan(any.packed?.layout.orbitLevels ?? 0)
    expect(own.packed?.noiseBits16).toBeLessThan(any.packed?.noiseBits16 ?? 0)
  })
})
