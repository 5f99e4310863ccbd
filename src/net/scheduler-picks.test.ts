/**
 * How the scheduler spreads jobs, with links that only wait (no SEAL, no network): a
 * miner just added, whose speed is not measured yet, takes its share of a batch — not all
 * of it (chaos found a newly found miner, still encoding its matrices, handed a whole
 * prefill batch while a measured miner sat idle).
 */
import { describe, expect, it } from 'vitest'
import type { MinerLink } from '../core/engine/index.ts'
import { minerScheduler } from './scheduler.ts'

/** A link that answers every job after `ms`, counting its jobs. */
function waitingLink (name: string, ms: number): MinerLink & { jobs: number } {
  const link = {
    name,
    jobs: 0,
    prepare: async () => {},
    async compute () {
      link.jobs++
      await new Promise(resolve => setTimeout(resolve, ms))
      return { results: [new Uint8Array(1)] }
    }
  }
  return link
}

describe('the scheduler\'s picks', () => {
  it('a newly added miner, not measured yet, gets part of a batch of concurrent jobs, not all of it', async () => {
    const warm = waitingLink('warm', 20)
    const fresh = waitingLink('fresh', 20)
    const scheduler = minerScheduler([warm])
    for (let i = 0; i < 4; i++) await scheduler.compute('m', [new Uint8Array(1)], `warm-up-${i}`)
    expect(warm.jobs).toBe(4)
    await scheduler.add(fresh)
    await Promise.all(Array.from({ length: 8 }, async (_, i) => await scheduler.compute('m', [new Uint8Array(1)], `batch-${i}`)))
    expect(fresh.jobs).toBeGreaterThan(0)
    expect(fresh.jobs).toBeLessThan(8)
    expect(warm.jobs - 4).toBeGreaterThan(0)
  })

  it('with no miner measured yet, jobs still rotate over all of them', async () => {
    const links = [waitingLink('a', 10), waitingLink('b', 10), waitingLink('c', 10)]
    const scheduler = minerScheduler(links)
    await Promise.all(Array.from({ length: 6 }, async (_, i) => await scheduler.compute('m', [new Uint8Array(1)], `j-${i}`)))
    for (const l of links) expect(l.jobs).toBeGreaterThan(0)
  })
})
