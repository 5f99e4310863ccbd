/**
 * Persistent job streams over real libp2p (WebSockets, loopback) with a real miner
 * service and real SEAL: one stream per user–miner pair for a whole generation; a stream
 * that dies mid-generation is reopened and nothing is lost; answers out of order or twice
 * are matched by id; an answer to a job never sent is refused with a typed error.
 */
import { getEventListeners } from 'node:events'
import type { Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateAsync, heBackend, localHe, privateEngine } from '../core/engine/index.ts'
import { loadSeal, NETWORKS, planToData, type MatvecPlan, type Seal } from '../core/he/index.ts'
import { createRng, createSampler, parseCheckpoint, parseTokenizer } from '../core/model/index.ts'
import { LINEAR_PROTOCOL, type LinearRequest, type LinearResult } from '../core/protocol/index.ts'
import { squeezedEngine } from '../core/engine/index.ts'
import { squeezeModel } from '../core/squeeze/index.ts'
import { generate } from '../core/model/index.ts'
import { stories260K } from '../test/fixtures.ts'
import { createHeMinerClient } from '../workers/he-client.ts'
import { inThreadPort } from '../workers/he-port.in-thread.ts'
import { messageWriter, readMessages } from './frames.ts'
import { openJobStream } from './job-stream.ts'
import { meshMinerLink, MinerJobError } from './mesh-link.ts'
import { startMinerService, type MinerService } from './miner-service.ts'
import { createPeer } from './peer.ts'

const files = stories260K()
const ckpt = parseCheckpoint(files.model)
const tok = parseTokenizer(files.tokenizer, 512)
const sq = squeezeModel(ckpt, { network: NETWORKS.loopback })
/** The same plan with the prompt's vectors one per job (no batched prefill): many jobs per round, for the quirky miner to reverse. */
const sqOneByOne = squeezeModel(ckpt, { network: NETWORKS.loopback, prefill: false })
let seal: Seal
let minerNode: Libp2p
let userNode: Libp2p
let service: MinerService

beforeAll(async () => {
  seal = await loadSeal()
  minerNode = await createPeer({ listenPort: 0 })
  service = await startMinerService(minerNode, sq, createHeMinerClient({ spawn: inThreadPort }))
  userNode = await createPeer()
})
afterAll(async () => {
  await userNode.stop()
  await minerNode.stop()
})

function twin (steps: number, prompt = ''): number[] {
  return [...generate(squeezedEngine(sq), tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt, steps })].map(t => t.token)
}

/** Private generation through `link`; `onToken` sees each token as it comes. */
async function privately (link: ReturnType<typeof meshMinerLink>, steps: number, onToken?: (i: number) => void, prompt = '', plan = sq): Promise<{ tokens: number[], verified: number }> {
  const backend = await heBackend(plan, localHe(seal).session, link)
  const out: number[] = []
  for await (const t of generateAsync(privateEngine(sq.params, backend), tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt, steps })) {
    out.push(t.token)
    onToken?.(out.length)
  }
  return { tokens: out, verified: backend.stats.verified }
}

describe('persistent job streams', () => {
  it('a whole generation goes over one stream: no dial or negotiation per job', async () => {
    const before = service.stats.streams
    const link = meshMinerLink(userNode, multiaddr(minerNode.getMultiaddrs()[0]), { session: 'one-stream' })
    const r = await privately(link, 12)
    expect(r.tokens).toEqual(twin(12))
    expect(r.verified).toBeGreaterThan(12 * 10)
    expect(link.streamsOpened).toBe(1)
    expect(service.stats.streams - before).toBe(1)
    link.close?.()
  })

  it('a stream that dies mid-generation is reopened and its jobs sent again: the same text', async () => {
    const link = meshMinerLink(userNode, multiaddr(minerNode.getMultiaddrs()[0]), { session: 'dies' })
    let killed = 0
    const r = await privately(link, 16, (i) => {
      if (i !== 5 && i !== 11) return
      // the miner's side of the user's stream breaks (as a crashed WebRTC channel would)
      for (const c of minerNode.getConnections()) for (const s of c.streams) if (s.protocol === LINEAR_PROTOCOL) { s.abort(new Error('test: the stream breaks')); killed++ }
    })
    expect(killed).toBeGreaterThanOrEqual(2)
    expect(r.tokens).toEqual(twin(16))
    expect(link.streamsOpened).toBeGreaterThanOrEqual(3)
    link.close?.()
  })

  it('an answered request leaves no listener on its signal (a job\'s timeout signal held its ciphertexts until it fired: the soak saw the user\'s heap grow)', async () => {
    const g = [...sq.groups.values()].find(x => x.placement === 'encrypted')
    const plan = g?.plans[0] as MatvecPlan
    const { ciphertexts } = await localHe(seal).session.encrypt(plan, new Int8Array(plan.dIn))
    const stream = await openJobStream(userNode, multiaddr(minerNode.getMultiaddrs()[0]), AbortSignal.timeout(10_000))
    const signal = AbortSignal.timeout(60_000)
    const reply = await stream.request({ type: 'request', session: 'listeners', job: 'j1', matrix: `${g?.group}:${g?.layer}:0`, plan: planToData(plan), ciphertexts }, signal)
    expect(reply.job).toBe('j1')
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
    stream.close()
  })
})

/**
 * A miner that computes honestly (through a real miner service behind it) but answers in
 * reverse order of arrival, each answer twice, and — when asked — with a job id it was
 * never sent.
 */
async function quirkyMiner (opts: { bogusAfter?: number }): Promise<{ node: Libp2p, reordered: () => number, stop: () => Promise<void> }> {
  const node = await createPeer({ listenPort: 0 })
  const upstream = meshMinerLink(node, multiaddr(minerNode.getMultiaddrs()[0]), { session: 'quirky-upstream' })
  for (const g of sq.groups.values()) g.plans.forEach((p, i) => { if (p !== undefined) void upstream.prepare(`${g.group}:${g.layer}:${i}`, p, new Int8Array(0)) })
  let answered = 0
  let reordered = 0
  await node.handle(LINEAR_PROTOCOL, (stream: Stream) => {
    const writer = messageWriter(stream)
    const batch: LinearRequest[] = []
    let flushing: ReturnType<typeof setTimeout> | undefined
    const flush = async (): Promise<void> => {
      const jobs = batch.splice(0).reverse()
      if (jobs.length > 1) reordered++
      const replies: LinearResult[] = await Promise.all(jobs.map(async (j) => {
        const r = await upstream.compute(j.matrix, j.ciphertexts, j.job)
        return { type: 'result' as const, job: j.job, ciphertexts: r.results }
      }))
      for (const m of replies) {
        answered++
        if (opts.bogusAfter !== undefined && answered > opts.bogusAfter) { await writer.write({ ...m, job: 'never-sent#1' }); return }
        await writer.write(m)
        await writer.write(m) // twice
      }
    }
    void (async () => {
      for await (const item of readMessages(stream)) {
        if (!item.ok || item.message.type !== 'request') continue
        batch.push(item.message)
        clearTimeout(flushing)
        flushing = setTimeout(() => { void flush() }, 5) // gather what arrives together, answer it backwards
      }
    })()
  })
  return { node, reordered: () => reordered, stop: async () => { upstream.close?.(); await node.stop() } }
}

describe('answers out of order, twice, or for jobs never sent', () => {
  it('out of order and duplicated answers: each result is matched by its id, duplicates are ignored, the text is exact', async () => {
    const q = await quirkyMiner({})
    const link = meshMinerLink(userNode, q.node.getMultiaddrs()[0], { session: 'quirky' })
    // a prompt, one vector per job, so the prefill sends many jobs of a round at once and they come back reversed
    const prompt = 'Once upon a time, a little fox'
    const r = await privately(link, 16, undefined, prompt, sqOneByOne)
    expect(r.tokens).toEqual(twin(16, prompt))
    expect(q.reordered()).toBeGreaterThan(5)
    link.close?.()
    await q.stop()
  })

  it('an answer to a job never sent is refused with a typed error (BAD_REPLY)', async () => {
    const q = await quirkyMiner({ bogusAfter: 3 })
    const link = meshMinerLink(userNode, q.node.getMultiaddrs()[0], { session: 'bogus', timeoutMs: 10_000 })
    const err = await privately(link, 8).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MinerJobError)
    expect((err as MinerJobError).code).toBe('BAD_REPLY')
    link.close?.()
    await q.stop()
  })
})
