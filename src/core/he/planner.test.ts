import { describe, expect, it } from 'vitest'
import { makePlan } from './plan.ts'
import { NETWORKS, splitWays } from './planner.ts'
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
