/**
 * The chaos benchmark, short (CI): three real `cerberus miner --relay` processes SIGKILLed
 * and started at random, the relay SIGKILLed and restarted once, during three greedy
 * generations by the CLI's user — every text the w8a8 text, every job answered and
 * verified or re-run after a failed attempt, none lost, the user's heap bounded.
 */
import { describe, expect, it } from 'vitest'
import { JOB_TIMEOUT_MS } from '../app/index.ts'
import { runChaosBench, USER_HEAP_GROWTH_LIMIT_BYTES } from './chaos-bench.ts'

describe('bench chaos (short)', () => {
  it('miners killed and started, the relay restarted: every text exact, every job accounted for, memory bounded', async () => {
    const lines: string[] = []
    const r = await runChaosBench({ generations: 3, miners: 3, relayRestarts: 1, tokens: 8, prompts: ['', 'Once upon a time'], minIntervalMs: 1500, maxIntervalMs: 3000, onLog: l => { lines.push(l) } })
    const context = `${JSON.stringify({ ...r, heapAfterGcBytes: undefined, externalAfterGcBytes: undefined })}\n${lines.join('\n')}`
    expect(r.failures, context).toEqual([])
    expect(r.exact, context).toBe(3)
    expect(r.relayRestarts).toBe(1)
    expect(r.minersKilled + r.minersStarted - 3, context).toBeGreaterThan(0) // the chaos did something
    expect(r.jobs).toBeGreaterThan(3 * 8 * 10)
    expect(r.lost).toBe(0)
    expect(r.jobsAccounted, context).toBe(true)
    expect(r.verifiedJobs).toBe(r.jobs)
    expect(r.verified).toBeGreaterThanOrEqual(r.jobs) // a batched prefill job verifies each of its vectors
    expect(r.rejected).toBe(0)
    // No job waited out a timeout (a job stuck on a dead miner would wait JOB_TIMEOUT_MS).
    expect(r.longestStallMs, context).toBeLessThan(JOB_TIMEOUT_MS)
    expect(r.heapGrowthBytes).toBeLessThanOrEqual(USER_HEAP_GROWTH_LIMIT_BYTES)
    expect(r.memoryBounded).toBe(true)
  }, 180_000)
})
