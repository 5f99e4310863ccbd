import type { Libp2p } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateAsync, heBackend, localHe, privateEngine } from '../core/engine/index.ts'
import { loadSeal, type Seal } from '../core/he/index.ts'
import { NETWORKS } from '../core/he/index.ts'
import { createEngine, createRng, createSampler, generate, parseCheckpoint, parseTokenizer } from '../core/model/index.ts'
import { stories260K } from '../test/fixtures.ts'
import { squeezeModel } from '../core/squeeze/index.ts'
import { createHeMinerClient } from '../workers/he-client.ts'
import { inThreadPort } from '../workers/he-port.in-thread.ts'
import { meshMinerLink } from './mesh-link.ts'
import { startMinerService, type MinerService, type MinerServiceOptions } from './miner-service.ts'
import { createPeer } from './peer.ts'
import { minerScheduler } from './scheduler.ts'
import { unscoredShare } from './scores/index.ts'

const files = stories260K()
const ckpt = parseCheckpoint(files.model)
const tok = parseTokenizer(files.tokenizer, 512)
const sq = squeezeModel(ckpt, { network: NETWORKS.loopback })
let seal: Seal
let user: Libp2p
const nodes: Libp2p[] = []
beforeAll(async () => {
  seal = await loadSeal()
  user = await createPeer()
  nodes.push(user)
})
afterAll(async () => { for (const n of nodes) await Promise.resolve(n.stop()).catch(() => {}) })

async function miner (opts: MinerServiceOptions = {}): Promise<{ node: Libp2p, addr: string, service: MinerService }> {
  const node = await createPeer({ listenPort: 0 })
  nodes.push(node)
  const service = await startMinerService(node, sq, createHeMinerClient({ spawn: inThreadPort }), opts)
  return { node, addr: node.getMultiaddrs()[0].toString(), service }
}

function w8a8 (steps: number): number[] {
  return [...generate(createEngine('w8a8', ckpt), tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: '', steps })].map(t => t.token)
}

let current: ReturnType<typeof minerScheduler> | undefined
const scheduler0 = (): ReturnType<typeof minerScheduler> => current as ReturnType<typeof minerScheduler>

async function run (links: Parameters<typeof minerScheduler>[0], steps: number, onToken?: (n: number) => Promise<void>, options?: Parameters<typeof minerScheduler>[1]): Promise<{ tokens: number[], scheduler: ReturnType<typeof minerScheduler>, rejected: number }> {
  const scheduler = minerScheduler(links, options)
  current = scheduler
  const backend = await heBackend(sq, localHe(seal).session, scheduler, { maxAttempts: 3 })
  const tokens: number[] = []
  for await (const t of generateAsync(privateEngine(sq.params, backend), tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: '', steps })) {
    tokens.push(t.token)
    await onToken?.(tokens.length)
  }
  return { tokens, scheduler, rejected: backend.stats.rejected }
}

describe('the scheduler over several Node miners', () => {
  for (const mode of ['flip', 'zero', 'stale'] as const) {
    it(`a tampering miner (${mode}) among honest ones: the text is right, the liar is dropped, no wrong token shown`, async () => {
      const liar = await miner({ tamper: mode })
      const honest = [await miner(), await miner()]
      const { multiaddr } = await import('@multiformats/multiaddr')
      // the liar first, so it gets jobs before it is caught
      const links = [liar, ...honest].map(m => meshMinerLink(user, multiaddr(m.addr), { session: `s-${mode}` }))
      const { tokens, scheduler, rejected } = await run(links, 12)
      expect(tokens).toEqual(w8a8(12))
      expect(scheduler.dropped).toEqual([liar.addr])
      expect([...scheduler.active].sort()).toEqual(honest.map(h => h.addr).sort())
      expect(rejected).toBeGreaterThanOrEqual(1)
    })
  }

  it('a miner killed mid-generation: the generation completes with the same text', async () => {
    const a = await miner()
    const b = await miner()
    const { multiaddr } = await import('@multiformats/multiaddr')
    const links = [a, b].map(m => meshMinerLink(user, multiaddr(m.addr), { session: 's-kill', timeoutMs: 10_000 }))
    const { tokens, scheduler } = await run(links, 14, async (n) => {
      if (n === 5) await a.node.stop() // gone, as a closed laptop lid
    })
    expect(tokens).toEqual(w8a8(14))
    // The dead miner is dropped as soon as a job reaches for it; if the survivor was
    // faster it may simply never be asked again (and stays listed, unused).
    expect(scheduler.active).toContain(b.addr)
    expect(scheduler.dropped.filter(d => d !== a.addr)).toEqual([])
  })

  it('miners discovered mid-generation join (and get the prepared plans); a paused one is skipped; answered jobs are counted per miner', async () => {
    const a = await miner()
    const b = await miner()
    const c = await miner()
    c.service.paused = true
    const { multiaddr } = await import('@multiformats/multiaddr')
    const link = (m: { addr: string }): ReturnType<typeof meshMinerLink> => meshMinerLink(user, multiaddr(m.addr), { session: 's-join' })
    const { tokens, scheduler } = await run([link(a)], 10, async (n) => {
      if (n === 3) { await scheduler0().add(link(b)); await scheduler0().add(link(c)) }
      if (n === 4) scheduler0().remove(a.addr)
    })
    expect(tokens).toEqual(w8a8(10))
    expect(a.service.stats.jobs).toBeGreaterThan(0)
    expect(b.service.stats.jobs).toBeGreaterThan(0) // b took over after a was removed
    expect(c.service.stats.jobs).toBe(0)
    expect(c.service.stats.busy).toBeGreaterThan(0) // asked, refused, dropped
    expect(scheduler.dropped).toContain(c.addr)
    expect(scheduler.answered.get(a.addr)).toBe(a.service.stats.jobs)
    expect(scheduler.answered.get(b.addr)).toBe(b.service.stats.jobs)
  })

  it('a big matrix split across miners: each computes its blocks, the text is exact', async () => {
    const a = await miner()
    const b = await miner()
    const { multiaddr } = await import('@multiformats/multiaddr')
    const links = [a, b].map(m => meshMinerLink(user, multiaddr(m.addr), { session: 's-split' }))
    // stories260K's matrices have 2–4 output blocks: split them all, two ways
    const { tokens, scheduler } = await run(links, 8, undefined, { splitMinBlocks: 2, maxSplit: 2 })
    expect(tokens).toEqual(w8a8(8))
    // every job went to both miners, one range each
    expect(a.service.stats.jobs).toBe(8 * 20) // 5 layers × 4 encrypted groups per token
    expect(b.service.stats.jobs).toBe(8 * 20)
    expect(scheduler.dropped).toEqual([])
  })

  it('a liar among split jobs is found by its rows: only it is dropped', async () => {
    const liar = await miner({ tamper: 'flip' })
    const honest = [await miner(), await miner()]
    const { multiaddr } = await import('@multiformats/multiaddr')
    const links = [liar, ...honest].map(m => meshMinerLink(user, multiaddr(m.addr), { session: 's-split-liar' }))
    const { tokens, scheduler, rejected } = await run(links, 8, undefined, { splitMinBlocks: 2, maxSplit: 2 })
    expect(tokens).toEqual(w8a8(8))
    expect(rejected).toBeGreaterThanOrEqual(1)
    expect(scheduler.dropped).toEqual([liar.addr])
    expect([...scheduler.active].sort()).toEqual(honest.map(h => h.addr).sort())
  })

  it('standings: a miner that failed validation gets no job; an unscored one at most its share while a trusted one serves; the text is exact', async () => {
    const [a, b, c] = [await miner(), await miner(), await miner()]
    const { multiaddr } = await import('@multiformats/multiaddr')
    const status = new Map([[a.addr, 'trusted'], [b.addr, 'unscored'], [c.addr, 'failed']] as const)
    const links = [c, b, a].map(m => meshMinerLink(user, multiaddr(m.addr), { session: 's-standing' }))
    const { tokens } = await run(links, 10, undefined, { standing: m => status.get(m) ?? 'unscored', unscoredShare })
    expect(tokens).toEqual(w8a8(10))
    const total = a.service.stats.jobs + b.service.stats.jobs
    expect(total).toBe(10 * 20)
    expect(c.service.stats.jobs).toBe(0)
    expect(b.service.stats.jobs).toBeGreaterThan(0) // tried, by this user's own checks too
    expect(b.service.stats.jobs).toBeLessThanOrEqual(Math.ceil(unscoredShare(1) * total))
  })

  it('no validators (every miner unscored): jobs spread as before; a trusted miner that stops answering leaves the unscored one every job, not none', async () => {
    const [a, b] = [await miner(), await miner()]
    const { multiaddr } = await import('@multiformats/multiaddr')
    const links = [a, b].map(m => meshMinerLink(user, multiaddr(m.addr), { session: 's-unscored' }))
    const { tokens } = await run(links, 6, undefined, { standing: () => 'unscored', unscoredShare })
    expect(tokens).toEqual(w8a8(6))
    expect(a.service.stats.jobs).toBeGreaterThan(20)
    expect(b.service.stats.jobs).toBeGreaterThan(20)

    const [t, u] = [await miner(), await miner()]
    t.service.paused = true // trusted, but answers MINER_BUSY: dropped after its failures
    const status = new Map([[t.addr, 'trusted'], [u.addr, 'unscored']] as const)
    const run2 = await run([t, u].map(m => meshMinerLink(user, multiaddr(m.addr), { session: 's-starve' })), 6, undefined, { standing: m => status.get(m) ?? 'unscored', unscoredShare })
    expect(run2.tokens).toEqual(w8a8(6))
    expect(u.service.stats.jobs).toBe(6 * 20)
  })

  it('every miner failed validation: no job is sent, the answer fails with NO_MINERS', async () => {
    const a = await miner()
    const { multiaddr } = await import('@multiformats/multiaddr')
    await expect(run([meshMinerLink(user, multiaddr(a.addr), { session: 's-none' })], 2, undefined, { standing: () => 'failed', unscoredShare })).rejects.toMatchObject({ code: 'NO_MINERS' })
    expect(a.service.stats.jobs).toBe(0)
  })
})
