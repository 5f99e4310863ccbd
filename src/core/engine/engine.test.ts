import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadSeal, type Seal } from '../he/index.ts'
import { parseCheckpoint } from '../model/checkpoint.ts'
import { createEngine } from '../model/engines.ts'
import { generate } from '../model/generate.ts'
import { createRng } from '../model/rng.ts'
import { createSampler } from '../model/sampler.ts'
import { stories260K } from '../../test/fixtures.ts'
import { parseTokenizer } from '../model/tokenizer.ts'
import { NETWORKS } from '../he/planner.ts'
import { squeezeModel } from '../squeeze/squeeze.ts'
import { VerificationError } from '../verify/freivalds.ts'
import { generateAsync, privateEngine, type AsyncLogitsEngine } from './engine.ts'
import { heBackend, type MinerLink } from './he-backend.ts'
import { localHe } from './he-local.ts'
import { squeezedW8a8Backend } from './plain-backend.ts'
import type { LinearBackend } from './backend.ts'

const files = stories260K()
const ckpt = parseCheckpoint(files.model)
const tok = parseTokenizer(files.tokenizer, ckpt.config.vocabSize)
const sq = squeezeModel(ckpt, { network: NETWORKS.loopback })
let seal: Seal
const closers: LinearBackend[] = []
beforeAll(async () => { seal = await loadSeal() })
afterAll(async () => { for (const b of closers) await b.close?.() })

async function tokens (engine: AsyncLogitsEngine, temperature: number, seed: number, prompt: string, steps: number): Promise<number[]> {
  const out: number[] = []
  for await (const t of generateAsync(engine, tok, createSampler({ temperature, topp: 0.9 }, createRng(seed)), { prompt, steps })) out.push(t.token)
  return out
}

function w8a8Tokens (temperature: number, seed: number, prompt: string, steps: number): number[] {
  return [...generate(createEngine('w8a8', ckpt), tok, createSampler({ temperature, topp: 0.9 }, createRng(seed)), { prompt, steps })].map(t => t.token)
}

async function heEngine (miner?: (real: MinerLink) => MinerLink): Promise<AsyncLogitsEngine> {
  const he = localHe(seal)
  const backend = await heBackend(sq, he.session, miner === undefined ? he.miner : miner(he.miner))
  closers.push(backend)
  return privateEngine(sq.params, backend)
}

describe('one forward pass, several backends', () => {
  it('the squeezed (fused, folded) w8a8 backend prints exactly the w8a8 engine\'s tokens', async () => {
    const engine = privateEngine(sq.params, squeezedW8a8Backend(sq))
    expect(await tokens(engine, 0, 1, '', 256)).toEqual(w8a8Tokens(0, 1, '', 256))
  })

  it('he-local prints exactly the w8a8 tokens for several prompts, and every result is verified', async () => {
    const engine = await heEngine()
    for (const prompt of ['', 'Once upon a time', 'The little dog was sad because']) {
      expect(await tokens(engine, 0, 1, prompt, 40), prompt).toEqual(w8a8Tokens(0, 1, prompt, 40))
    }
    expect(engine.backend.stats.rejected).toBe(0)
    // every vector of every encrypted group (5 layers × 4, cls local) verified once
    const encryptedVectors = engine.backend.stats.groups - engine.backend.stats.rounds / 20
    expect(engine.backend.stats.verified).toBe(encryptedVectors)
  })

  it('he-local prints exactly the w8a8 tokens of a seeded sampled run', async () => {
    const engine = await heEngine()
    expect(await tokens(engine, 1, 42, 'Tom had a red ball.', 50)).toEqual(w8a8Tokens(1, 42, 'Tom had a red ball.', 50))
  })

  it('reports progress and stops when aborted', async () => {
    const engine = privateEngine(sq.params, squeezedW8a8Backend(sq))
    const ctl = new AbortController()
    const seen: number[] = []
    const phases: string[] = []
    const run = async (): Promise<void> => {
      for await (const t of generateAsync(engine, tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: 'Once upon', steps: 100, signal: ctl.signal, onProgress: p => phases.push(p.phase) })) {
        seen.push(t.token)
        if (seen.length === 6) ctl.abort()
      }
    }
    await expect(run()).rejects.toThrow()
    expect(seen).toHaveLength(6)
    expect(phases.slice(0, 2)).toEqual(['prompt', 'prompt'])
    expect(phases).toContain('answer')
  })
})

describe('a lying miner is caught', () => {
  const cases: Array<[string, (results: Uint8Array[], previous: Uint8Array[] | undefined) => Uint8Array[], 'freivalds' | 'malformed']> = [
    ['one flipped bit in a result ciphertext', r => { const c = r.map(x => x.slice()); c[0][40] ^= 1; return c }, 'freivalds'],
    ['all-zero results', r => r.map(x => { const c = x.slice(); c.fill(0, 28); return c }), 'freivalds'],
    ['a stale result (the same matrix\'s previous job)', (r, prev) => prev ?? r, 'freivalds'],
    ['a truncated result', r => r.map(x => x.slice(0, x.length - 5)), 'malformed'],
    ['too few results', r => r.slice(1), 'malformed']
  ]
  for (const [what, tamper, reason] of cases) {
    it(`${what}: VerificationError naming the job and the miner, never a wrong token`, async () => {
      const previous = new Map<string, Uint8Array[]>()
      let jobs = 0
      const engine = await heEngine(real => ({
        name: 'liar',
        prepare: real.prepare,
        async compute (id, inputs, job) {
          const r = await real.compute(id, inputs, job)
          const honest = r.results
          // lie from the 8th job on (after a few honest tokens' worth of jobs)
          const out = ++jobs >= 8 ? tamper(honest, previous.get(id)) : honest
          previous.set(id, honest)
          return { results: out }
        }
      }))
      const emitted: number[] = []
      const reference = w8a8Tokens(0, 1, '', 20)
      let error: unknown
      try {
        for await (const t of generateAsync(engine, tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: '', steps: 20 })) emitted.push(t.token)
      } catch (e) { error = e }
      expect(error).toBeInstanceOf(VerificationError)
      expect((error as VerificationError).miner).toBe('liar')
      expect((error as VerificationError).reason).toBe(reason)
      expect((error as VerificationError).job).toMatch(/^\w+:\d+:0#\d+$/)
      expect(engine.backend.stats.rejected).toBe(1)
      expect(emitted).toEqual(reference.slice(0, emitted.length)) // no wrong token was ever shown
    })
  }
})
