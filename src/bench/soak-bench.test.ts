/**
 * The soak benchmark, short (CI): one miner process serving 36 generations for 18 users
 * (more than the miner holds key sets for, so sessions are evicted and come back): every
 * text the w8a8 text, and, over the second half, the miner's heap, its workers' SEAL heap
 * and the users' heap and SEAL heap flat.
 */
import { describe, expect, it } from 'vitest'
import { MINER_KEYS } from '../net/miner-keys.ts'
import { runSoakBench, SOAK_STEADY_GROWTH_LIMITS } from './soak-bench.ts'

describe('bench soak (short)', () => {
  it('36 generations by 18 users on one miner: exact, and memory flat in the steady state', async () => {
    const r = await runSoakBench({ generations: 36, tokens: 2, generationsPerUser: 2 })
    const context = JSON.stringify(r, (k, v: unknown) => (k === 'samples' ? undefined : v))
    expect(r.exact).toBe(36)
    expect(r.users).toBeGreaterThan(MINER_KEYS.maxSessions)
    expect(r.minerStats.keysEvicted, context).toBe(r.users - MINER_KEYS.maxSessions)
    expect(r.minerStats.streams).toBe(r.users)
    expect(r.minerStats.failed).toBe(0)
    expect(r.minerHeap.steadyGrowth, context).toBeLessThanOrEqual(SOAK_STEADY_GROWTH_LIMITS.heapBytes)
    expect(r.userHeap.steadyGrowth, context).toBeLessThanOrEqual(SOAK_STEADY_GROWTH_LIMITS.heapBytes)
    expect(r.minerWasm.steadyGrowth, context).toBeLessThanOrEqual(SOAK_STEADY_GROWTH_LIMITS.wasmBytes)
    expect(r.userWasm.steadyGrowth, context).toBeLessThanOrEqual(SOAK_STEADY_GROWTH_LIMITS.wasmBytes)
  }, 240_000)
})
