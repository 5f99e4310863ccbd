import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateAsync, heBackend, localHe, privateEngine } from '../core/engine/index.ts'
import { loadSeal, type Seal } from '../core/he/index.ts'
import { NETWORKS } from '../core/he/index.ts'
import { createEngine, createRng, createSampler, generate, parseCheckpoint, parseTokenizer } from '../core/model/index.ts'
import { prng, stories260K } from '../test/fixtures.ts'
import { decodeMessage, encodeMessage, frame, FrameDecoder, LINEAR_PROTOCOL } from '../core/protocol/index.ts'
import { squeezeModel } from '../core/squeeze/index.ts'
import { createHeMinerClient } from '../workers/he-client.ts'
import { inThreadPort } from '../workers/he-port.in-thread.ts'
import { meshMinerLink, MinerJobError } from './mesh-link.ts'
import { startMinerService, type MinerService } from './miner-service.ts'
import { createPeer } from './peer.ts'
import { auditWire, concatBytes } from './wire-audit.ts'

const files = stories260K()
const ckpt = parseCheckpoint(files.model)
const tok = parseTokenizer(files.tokenizer, 512)
const sq = squeezeModel(ckpt, { network: NETWORKS.loopback })
let seal: Seal
let minerNode: Libp2p
let userNode: Libp2p
let service: MinerService
let minerAddr: string

beforeAll(async () => {
  seal = await loadSeal()
  minerNode = await createPeer({ listenPort: 0 })
  service = await startMinerService(minerNode, sq, createHeMinerClient({ spawn: inThreadPort }))
  minerAddr = minerNode.getMultiaddrs()[0].toString()
  userNode = await createPeer()
})
afterAll(async () => {
  await userNode.stop()
  await minerNode.stop()
})

function w8a8 (steps: number): number[] {
  return [...generate(createEngine('w8a8', ckpt), tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: '', steps })].map(t => t.token)
}

describe('a user and a Node miner over libp2p (WebSockets, loopback)', () => {
  it('private generation through the remote miner prints exactly the w8a8 tokens', async () => {
    const { session } = localHe(seal)
    const link = meshMinerLink(userNode, multiaddr(minerAddr), { session: 'test-session' })
    const backend = await heBackend(sq, session, link)
    const out: number[] = []
    for await (const t of generateAsync(privateEngine(sq.params, backend), tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: '', steps: 16 })) out.push(t.token)
    expect(out).toEqual(w8a8(16))
    expect(backend.stats.verified).toBe(16 * 20)
    expect(service.stats.jobs).toBeGreaterThanOrEqual(16 * 20)
    expect(service.stats.bytesIn).toBe(backend.stats.bytesUp)
  })

  it('a malformed frame gets a typed error reply, and the miner keeps serving', async () => {
    const stream = await userNode.dialProtocol(multiaddr(minerAddr), LINEAR_PROTOCOL)
    stream.send(frame(Uint8Array.from([1, 1, 0xff, 0xff, 0, 0])))
    const d = new FrameDecoder()
    let reply
    for await (const c of stream) {
      const bodies = d.push(c instanceof Uint8Array ? c : c.subarray())
      if (bodies.length > 0) { reply = decodeMessage(bodies[0]); break }
    }
    expect(reply).toMatchObject({ type: 'error', code: 'PROTOCOL' })
    const again = await userNode.dialProtocol(multiaddr(minerAddr), LINEAR_PROTOCOL)
    again.send(frame(encodeMessage({ type: 'result', job: 'x', ciphertexts: [] })))
    const d2 = new FrameDecoder()
    for await (const c of again) {
      const bodies = d2.push(c instanceof Uint8Array ? c : c.subarray())
      if (bodies.length > 0) { expect(decodeMessage(bodies[0])).toMatchObject({ type: 'error', code: 'BAD_REQUEST' }); break }
    }
  })

  it('refuses a job for a matrix it does not have, or with a plan of the wrong shape', async () => {
    const { session } = localHe(seal)
    const link = meshMinerLink(userNode, multiaddr(minerAddr), { session: 's2' })
    const g = sq.groups.get('o:0')
    const plan = g?.plans[0]
    if (plan === undefined) throw new Error('no plan')
    await link.prepare('o:99:0', plan, new Int8Array(0))
    const { ciphertexts } = await session.encrypt(plan, new Int8Array(plan.dIn))
    await expect(link.compute('o:99:0', ciphertexts, 'job-1')).rejects.toMatchObject({ code: 'UNKNOWN_MATRIX', miner: minerAddr })
    const wrong = sq.groups.get('qkv:0')?.plans[0]
    if (wrong === undefined) throw new Error('no plan')
    await link.prepare('o:0:0', wrong, new Int8Array(0))
    await expect(link.compute('o:0:0', ciphertexts, 'job-2')).rejects.toMatchObject({ code: 'BAD_REQUEST' })
  })

  it('a user who disconnects: her queued jobs are dropped, not computed, and the miner serves the next user', async () => {
    const plan = sq.groups.get('up:0')?.plans[0]
    if (plan === undefined) throw new Error('no plan')
    const { session } = localHe(seal)
    // a slow miner (a real one, 300 ms late on every job), so that jobs queue up
    const real = createHeMinerClient({ spawn: inThreadPort })
    const slowNode = await createPeer({ listenPort: 0 })
    const service = await startMinerService(slowNode, sq, {
      prepare: real.prepare,
      compute: async (id, inputs) => { await new Promise(resolve => setTimeout(resolve, 300)); return await real.compute(id, inputs) }
    })
    const slowAddr = slowNode.getMultiaddrs()[0].toString()
    const leaving = await createPeer()
    const link = meshMinerLink(leaving, multiaddr(slowAddr), { session: 'leaving' })
    await link.prepare('up:0:0', plan, new Int8Array(0))
    const before = { ...service.stats }
    const inputs = (await session.encrypt(plan, new Int8Array(plan.dIn).fill(3))).ciphertexts
    const jobs = Array.from({ length: 20 }, async (_, i) => await link.compute('up:0:0', inputs.map(c => c.slice()), `leave#${i}`).catch((e: Error) => e.message))
    for (let t = 0; service.queued < 3 && t < 1000; t++) await new Promise(resolve => setTimeout(resolve, 10)) // requests queued at the miner
    expect(service.queued).toBeGreaterThanOrEqual(3)
    await leaving.stop() // the tab closes
    await Promise.all(jobs)
    await new Promise(resolve => setTimeout(resolve, 500))
    const computed = service.stats.jobs - before.jobs
    const dropped = service.stats.dropped - before.dropped
    expect(dropped).toBeGreaterThan(0)
    expect(computed).toBeLessThan(20)
    // the miner is fine
    const next = meshMinerLink(userNode, multiaddr(slowAddr), { session: 'next' })
    await next.prepare('up:0:0', plan, new Int8Array(0))
    const r = await next.compute('up:0:0', (await session.encrypt(plan, new Int8Array(plan.dIn).fill(3))).ciphertexts, 'next#1')
    expect(r.results.length).toBe(plan.split.blocks)
    await slowNode.stop()
  })

  it('a miner that takes the job and never answers: the job times out with a typed error, on time', async () => {
    const plan = sq.groups.get('o:0')?.plans[0]
    if (plan === undefined) throw new Error('no plan')
    const silent = await createPeer({ listenPort: 0 })
    await silent.handle(LINEAR_PROTOCOL, async (stream) => { for await (const chunk of stream) void chunk /* swallow, never answer */ })
    const link = meshMinerLink(userNode, silent.getMultiaddrs()[0], { session: 'silent', timeoutMs: 800 })
    await link.prepare('o:0:0', plan, new Int8Array(0))
    const { session } = localHe(seal)
    const t0 = Date.now()
    const err = await link.compute('o:0:0', (await session.encrypt(plan, new Int8Array(plan.dIn))).ciphertexts, 'silent#1').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MinerJobError)
    expect((err as MinerJobError).code).toBe('MINER_TIMEOUT')
    expect(Date.now() - t0).toBeLessThan(5000)
    await silent.stop()
  })

  it('a miner that is gone fails the job with a typed error', async () => {
    const gone = await createPeer({ listenPort: 0 })
    const addr = gone.getMultiaddrs()[0]
    await gone.stop()
    const link = meshMinerLink(userNode, addr, { session: 's3', timeoutMs: 5000 })
    const plan = sq.groups.get('o:0')?.plans[0]
    if (plan === undefined) throw new Error('no plan')
    await link.prepare('o:0:0', plan, new Int8Array(0))
    const err = await link.compute('o:0:0', [], 'job-3').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MinerJobError)
    expect((err as MinerJobError).code).toMatch(/MINER_UNREACHABLE|MINER_FAILED|MINER_TIMEOUT/)
  })
})

describe('privacy on the wire', () => {
  it('no prompt text, no token id and no plaintext activation appears in anything the user sends', async () => {
    const sent: Uint8Array[] = []
    const activations: Int8Array[] = []
    const prompt = 'Once upon a time, Lily found a shiny red ball in the garden.'
    const link = meshMinerLink(userNode, multiaddr(minerAddr), { session: 'privacy', onSend: f => sent.push(f.slice()) })
    const backend = await heBackend(sq, localHe(seal).session, link, { onQuantizedInput: (_id, xq) => activations.push(xq.slice()) })
    const tokens: number[] = []
    for await (const t of generateAsync(privateEngine(sq.params, backend), tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt, steps: 24 })) tokens.push(t.token)
    expect(activations.length).toBe(24 * 20)
    const report = auditWire(concatBytes(sent), { prompt, tokens: [1, ...tokens], activations })
    expect(report.bytes).toBeGreaterThan(1_000_000)
    expect(report.findings).toEqual([])
    // and the audit does find each kind of secret when it is there
    const leaky = concatBytes([...sent.slice(0, 3), new TextEncoder().encode('shiny'), Uint16Array.from(tokens.slice(5, 8)).buffer, activations[7].slice(32, 48)].map(b => new Uint8Array(b instanceof ArrayBuffer ? b : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))))
    expect(auditWire(leaky, { prompt, tokens: [1, ...tokens], activations }).findings.length).toBe(3)
  })
})

describe('fuzzing the live miner', () => {
  it('300 random and mutated frames over libp2p: each gets a typed error or a closed stream; the miner keeps serving', async () => {
    const rand = prng(77)
    const plan = sq.groups.get('o:0')?.plans[0]
    if (plan === undefined) throw new Error('no plan')
    const { session } = localHe(seal)
    const valid = encodeMessage({ type: 'request', session: 'fz', job: 'fz#0', matrix: 'o:0:0', plan: { dOut: plan.dOut, dIn: plan.dIn, preset: plan.params.preset.name, nI: plan.split.nI }, ciphertexts: (await session.encrypt(plan, new Int8Array(plan.dIn).fill(5))).ciphertexts })
    const codes = new Map<string, number>()
    for (let i = 0; i < 300; i++) {
      let body: Uint8Array
      if (i % 3 === 0) body = Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256))
      else {
        body = valid.slice()
        for (let k = 0; k < 1 + Math.floor(rand() * 6); k++) body[Math.floor(rand() * Math.min(body.length, i % 2 === 0 ? 120 : body.length))] = Math.floor(rand() * 256)
        if (rand() < 0.2) body = body.slice(0, Math.floor(rand() * body.length))
      }
      const stream = await userNode.dialProtocol(multiaddr(minerAddr), LINEAR_PROTOCOL)
      stream.send(frame(body))
      await stream.close().catch(() => {})
      const d = new FrameDecoder()
      let code = 'closed'
      try {
        for await (const c of stream) {
          const bodies = d.push(c instanceof Uint8Array ? c : c.subarray())
          if (bodies.length > 0) {
            const reply = decodeMessage(bodies[0])
            code = reply.type === 'error' ? reply.code : reply.type
            break
          }
        }
      } catch { code = 'reset' }
      codes.set(code, (codes.get(code) ?? 0) + 1)
    }
    // every reply is a typed error (or, rarely, a mutated ciphertext that still decodes)
    for (const code of codes.keys()) expect(['PROTOCOL', 'BAD_REQUEST', 'UNKNOWN_MATRIX', 'HE_WIRE', 'HE_JOB', 'HE_PARAMS', 'SEAL', 'result', 'closed', 'reset', 'MINER_BUSY']).toContain(code)
    expect(codes.get('PROTOCOL') ?? 0).toBeGreaterThan(50)
    // and the miner still serves an honest job
    const link = meshMinerLink(userNode, multiaddr(minerAddr), { session: 'after-fuzz' })
    const backend = await heBackend(sq, localHe(seal).session, link)
    const out: number[] = []
    for await (const t of generateAsync(privateEngine(sq.params, backend), tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: '', steps: 6 })) out.push(t.token)
    expect(out).toEqual(w8a8(6))
  })
})
