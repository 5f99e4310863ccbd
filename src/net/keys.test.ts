/**
 * Galois keys on the wire, over real libp2p with a real miner service and real SEAL
 * (stories260K, every matrix packed at N = 4096): keys travel once per session and stream,
 * a session whose keys were evicted gets UNKNOWN_KEYS and its link sends them again
 * (nothing lost), and keys that are not valid get BAD_KEYS while the miner keeps serving.
 */
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateAsync, heBackend, localHe, privateEngine, squeezedEngine, type MinerLink } from '../core/engine/index.ts'
import { loadSeal, NETWORKS, type Seal } from '../core/he/index.ts'
import { createRng, createSampler, generate, parseCheckpoint, parseTokenizer } from '../core/model/index.ts'
import { squeezeModel } from '../core/squeeze/index.ts'
import { stories260K } from '../test/fixtures.ts'
import { createMinerPool } from '../workers/index.ts'
import { inThreadPort } from '../workers/he-port.in-thread.ts'
import { meshMinerLink, MinerJobError } from './mesh-link.ts'
import { startMinerService, type MinerService } from './miner-service.ts'
import { createPeer } from './peer.ts'

const files = stories260K()
const ckpt = parseCheckpoint(files.model)
const tok = parseTokenizer(files.tokenizer, 512)
const sq = squeezeModel(ckpt, { network: NETWORKS.lan, rounds: 'unfused', scheme: 'packed' })
let seal: Seal
let minerNode: Libp2p
let userNode: Libp2p
let service: MinerService

beforeAll(async () => {
  seal = await loadSeal()
  minerNode = await createPeer({ listenPort: 0 })
  // one session's keys at a time, so a second user evicts the first
  service = await startMinerService(minerNode, squeezeModel(ckpt, { scheme: 'coeff' }), createMinerPool({ spawn: inThreadPort, size: 1 }), { maxKeySessions: 1 })
  userNode = await createPeer()
})
afterAll(async () => {
  await userNode.stop()
  await minerNode.stop()
})

function twin (steps: number, prompt = ''): number[] {
  return [...generate(squeezedEngine(sq), tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt, steps })].map(t => t.token)
}

async function privately (link: MinerLink, steps: number, prompt = ''): Promise<number[]> {
  const backend = await heBackend(sq, localHe(seal).session, link)
  const out: number[] = []
  for await (const t of generateAsync(privateEngine(sq.params, backend), tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt, steps })) out.push(t.token)
  return out
}

describe('Galois keys on the wire', () => {
  it('every matrix packed: the keys travel once, the text is the twin\'s', async () => {
    expect([...sq.groups.values()].filter(g => g.placement === 'encrypted').every(g => g.plans.every(p => p?.scheme === 'packed'))).toBe(true)
    const before = service.stats.keySets
    const link = meshMinerLink(userNode, multiaddr(minerNode.getMultiaddrs()[0]), { session: 'keys-a' })
    expect(await privately(link, 8)).toEqual(twin(8))
    expect(service.stats.keySets - before).toBe(1) // one parameter set, one stream
    link.close?.()
  })

  it('a prompt of 28 tokens: batched prefill jobs (16 vectors each) over the wire, encoded by the miner on first use; the twin\'s text', async () => {
    const prompt = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the'
    const batch = [...sq.groups.values()].find(g => g.placement === 'encrypted')?.prefillPlans?.[0]?.batch
    expect(batch).toBe(16)
    const sizes = new Set<number>()
    const link = meshMinerLink(userNode, multiaddr(minerNode.getMultiaddrs()[0]), { session: 'keys-prefill' })
    const counted: MinerLink = { ...link, compute: async (id, inputs, job, blocks) => { sizes.add(inputs.length); return await link.compute(id, inputs, job, blocks) } }
    const jobs = service.stats.jobs
    expect(await privately(counted, 34, prompt)).toEqual(twin(34, prompt)) // 28 prompt positions, then 6 answer tokens
    expect(service.stats.jobs).toBeGreaterThan(jobs)
    expect(Math.max(...sizes)).toBeGreaterThan(Math.min(...sizes)) // batched jobs carry more input ciphertexts than one vector's
    link.close?.()
  })

  it('a miner that holds one encoding per matrix: the one-vector and prefill encodings evict each other, and the text is still the twin\'s', async () => {
    const node = await createPeer({ listenPort: 0 })
    const small = await startMinerService(node, squeezeModel(ckpt, { scheme: 'coeff' }), createMinerPool({ spawn: inThreadPort, size: 1 }), { maxEncodingsPerMatrix: 1 })
    try {
      const prompt = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the'
      const link = meshMinerLink(userNode, multiaddr(node.getMultiaddrs()[0]), { session: 'one-encoding' })
      expect(await privately(link, 34, prompt)).toEqual(twin(34, prompt))
      expect(small.stats.encodingsEvicted).toBeGreaterThan(0)
      expect(small.stats.failed).toBe(0)
      link.close?.()
    } finally {
      await small.stop()
      await node.stop()
    }
  })

  it('keys evicted by another session: UNKNOWN_KEYS, the link sends them again, nothing is lost', async () => {
    const a = meshMinerLink(userNode, multiaddr(minerNode.getMultiaddrs()[0]), { session: 'evict-a' })
    const b = meshMinerLink(userNode, multiaddr(minerNode.getMultiaddrs()[0]), { session: 'evict-b' })
    const backendA = await heBackend(sq, localHe(seal).session, a)
    const engineA = privateEngine(sq.params, backendA)
    const outA: number[] = []
    let evicted = false
    for await (const t of generateAsync(engineA, tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: '', steps: 10 })) {
      outA.push(t.token)
      if (outA.length === 3 && !evicted) { evicted = true; expect(await privately(b, 3)).toEqual(twin(3)) } // b's keys push a's out
    }
    expect(outA).toEqual(twin(10))
    expect(service.stats.keysEvicted).toBeGreaterThanOrEqual(2)
    a.close?.()
    b.close?.()
  })

  it('keys that are not valid for the plan: BAD_KEYS, typed; the miner keeps serving', async () => {
    const honest = localHe(seal).session
    const plan = sq.groups.get('o:0')?.plans[0]
    if (plan === undefined) throw new Error('no plan')
    const keys = await (honest.galoisKeys as NonNullable<typeof honest.galoisKeys>)(plan)
    const bad = keys.slice()
    for (let i = 64; i < bad.length; i += 997) bad[i] ^= 0xff // valid header, wrong key material
    const link = meshMinerLink(userNode, multiaddr(minerNode.getMultiaddrs()[0]), { session: 'bad-keys' })
    await link.setKeys?.(plan, bad)
    await link.prepare('o:0:0', plan, new Int8Array(0))
    const err = await link.compute('o:0:0', (await honest.encrypt(plan, new Int8Array(plan.dIn).fill(1))).ciphertexts, 'bad#1').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MinerJobError)
    expect((err as MinerJobError).code).toMatch(/BAD_KEYS|HE_WIRE|HE_JOB/)
    link.close?.()
    const next = meshMinerLink(userNode, multiaddr(minerNode.getMultiaddrs()[0]), { session: 'after-bad' })
    expect(await privately(next, 4)).toEqual(twin(4))
    next.close?.()
  })
})
