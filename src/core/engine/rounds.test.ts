import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadSeal, type Seal } from '../he/index.ts'
import { NETWORKS } from '../he/planner.ts'
import { parseCheckpoint, type Checkpoint } from '../model/checkpoint.ts'
import { createRng } from '../model/rng.ts'
import { createSampler } from '../model/sampler.ts'
import { SYNTHETIC_768X12, syntheticModel, syntheticTokenizerBytes } from '../model/synthetic.ts'
import { stories260K, syntheticCheckpoint } from '../../test/fixtures.ts'
import { encode, parseTokenizer, type Tokenizer } from '../model/tokenizer.ts'
import { squeezeModel, type SqueezedModel } from '../squeeze/squeeze.ts'
import { tokenRounds } from '../squeeze/rounds.ts'
import type { LinearBackend } from './backend.ts'
import { generateAsync, privateEngine, type AsyncLogitsEngine } from './engine.ts'
import { heBackend, type MinerLink } from './he-backend.ts'
import { localHe } from './he-local.ts'
import { squeezedW8a8Backend } from './plain-backend.ts'

const files = stories260K()
const ckpt = parseCheckpoint(files.model)
const tok = parseTokenizer(files.tokenizer, ckpt.config.vocabSize)
const plans: Record<'unfused' | 'fused', SqueezedModel> = {
  unfused: squeezeModel(ckpt, { network: NETWORKS.loopback, rounds: 'unfused' }),
  fused: squeezeModel(ckpt, { network: NETWORKS.loopback, rounds: 'fused' })
}
const L = ckpt.config.nLayers
let seal: Seal
const closers: LinearBackend[] = []
beforeAll(async () => { seal = await loadSeal() })
afterAll(async () => { for (const b of closers) await b.close?.() })

async function he (sq: SqueezedModel, wrap?: (real: MinerLink) => MinerLink): Promise<LinearBackend> {
  const local = localHe(seal)
  const b = await heBackend(sq, local.session, wrap === undefined ? local.miner : wrap(local.miner))
  closers.push(b)
  return b
}

// An engine that counts its forward passes (a batched prefill is one).
function counted (engine: AsyncLogitsEngine): AsyncLogitsEngine & { readonly passes: number } {
  let passes = 0
  return {
    seqLen: engine.seqLen,
    backend: engine.backend,
    get passes () { return passes },
    async forward (t, pos, signal) { passes++; return await engine.forward(t, pos, signal) },
    async prefill (ts, pos0, signal) { passes++; return await (engine.prefill as NonNullable<AsyncLogitsEngine['prefill']>)(ts, pos0, signal) }
  }
}

async function tokens (engine: AsyncLogitsEngine, t: Tokenizer, temperature: number, seed: number, prompt: string, steps: number): Promise<number[]> {
  const out: number[] = []
  for await (const g of generateAsync(engine, t, createSampler({ temperature, topp: 0.9 }, createRng(seed)), { prompt, steps })) out.push(g.token)
  return out
}

describe('the round-fused plan, encrypted and in the clear', () => {
  it('he-local prints exactly the fused twin\'s tokens (greedy, 64 tokens), every result verified', async () => {
    const sq = plans.fused
    const backend = await he(sq)
    const twin = await tokens(privateEngine(sq.params, squeezedW8a8Backend(sq)), tok, 0, 1, '', 64)
    expect(await tokens(privateEngine(sq.params, backend), tok, 0, 1, '', 64)).toEqual(twin)
    expect(backend.stats.rejected).toBe(0)
    // per token: qkv₀, α (2 groups) per layer, β (2 groups; 1 in the last layer): 4L jobs
    expect(backend.stats.verified).toBe(64 * 4 * L)
  })

  it('he-local prints exactly the fused twin\'s tokens of a seeded top-p run from a prompt', async () => {
    const sq = plans.fused
    const prompt = 'Tom had a red ball.'
    const twin = await tokens(privateEngine(sq.params, squeezedW8a8Backend(sq)), tok, 1, 42, prompt, 50)
    expect(await tokens(privateEngine(sq.params, await he(sq)), tok, 1, 42, prompt, 50)).toEqual(twin)
  })

  it('an encrypted (untied) classifier rides in the last β round: he-local == twin, 2L + 1 round trips', async () => {
    const untied = parseCheckpoint(syntheticCheckpoint({ dim: 32, hiddenDim: 48, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 300, seqLen: 24, shared: false }))
    const sq = squeezeModel(untied, { network: NETWORKS.loopback, rounds: 'fused' })
    expect(sq.layout.classifierInLastRound).toBe(true)
    expect(sq.groups.get('cls-down:1')?.placement).toBe('encrypted')
    const stok = parseTokenizer(syntheticTokenizerBytes(300), 300)
    const twinBackend = squeezedW8a8Backend(sq)
    const backend = await he(sq)
    const twin = await tokens(privateEngine(sq.params, twinBackend), stok, 1, 7, 'ab', 12)
    const engine = counted(privateEngine(sq.params, backend))
    expect(await tokens(engine, stok, 1, 7, 'ab', 12)).toEqual(twin)
    expect(backend.stats.rounds).toBe(engine.passes * (2 * 2 + 1))
    expect(twinBackend.stats.rounds).toBe(backend.stats.rounds)
  })

  it('on the 768-dim synthetic shape (one layer): he-local == twin', async () => {
    const syn: Checkpoint = syntheticModel({ ...SYNTHETIC_768X12, nLayers: 1, vocabSize: 512, seqLen: 32 })
    const sq = squeezeModel(syn, { network: NETWORKS.loopback, rounds: 'fused' })
    const stok = parseTokenizer(syntheticTokenizerBytes(512), 512)
    const twin = await tokens(privateEngine(sq.params, squeezedW8a8Backend(sq)), stok, 1, 3, 'a', 5)
    const backend = await he(sq)
    const engine = counted(privateEngine(sq.params, backend))
    expect(await tokens(engine, stok, 1, 3, 'a', 5)).toEqual(twin)
    expect(backend.stats.rejected).toBe(0)
    expect(backend.stats.rounds).toBe(engine.passes * 3) // qkv₀, α, β
  }, 60_000)
})

describe('round trips per token', () => {
  for (const [layout, perToken] of [['unfused', 4 * L], ['fused', 2 * L + 1]] as const) {
    it(`${layout}: ${perToken} per token for stories260K (${L} layers), twin and he-local alike`, async () => {
      const sq = plans[layout]
      expect(tokenRounds(ckpt.config, sq.layout).length - 1).toBe(perToken) // the tied classifier is local
      expect(sq.rounds.predicted[layout]?.roundTrips).toBe(perToken)
      for (const backend of [squeezedW8a8Backend(sq), await he(sq)]) {
        const engine = privateEngine(sq.params, backend)
        for (let pos = 0; pos < 6; pos++) await engine.forward([1, 403, 407, 261, 378, 432][pos], pos)
        expect(backend.stats.rounds).toBe(6 * perToken)
      }
    })
  }
})

describe('batched prefill', () => {
  const prompt = encode(tok, 'Once upon a time, Lily found a ball.')
  for (const layout of ['unfused', 'fused'] as const) {
    for (const kind of ['twin', 'he-local'] as const) {
      it(`${layout}, ${kind}: the last prompt position's logits (and the next ones) are bit-identical to feeding one token at a time`, async () => {
        const sq = plans[layout]
        const make = async (): Promise<AsyncLogitsEngine> => privateEngine(sq.params, kind === 'twin' ? squeezedW8a8Backend(sq) : await he(sq))
        const batched = await make()
        const single = await make()
        const a = Array.from(await batched.prefill?.(prompt, 0) ?? [])
        let b: number[] = []
        for (let pos = 0; pos < prompt.length; pos++) b = Array.from(await single.forward(prompt[pos], pos))
        expect(a).toEqual(b)
        // the caches agree too: the next positions' logits are equal
        for (const [i, t] of [403, 261, 378].entries()) {
          expect(Array.from(await batched.forward(t, prompt.length + i))).toEqual(Array.from(await single.forward(t, prompt.length + i)))
        }
        // the whole prompt cost one token's rounds
        const perToken = sq.rounds.predicted[layout]?.roundTrips ?? NaN
        expect(batched.backend.stats.rounds).toBe(4 * perToken)
        expect(single.backend.stats.rounds).toBe((prompt.length + 3) * perToken)
      }, 60_000)
    }
  }

  it('generateAsync feeds the prompt in one pass and prints what one-by-one feeding prints (run.c\'s semantics)', async () => {
    const sq = plans.fused
    const onePass = privateEngine(sq.params, squeezedW8a8Backend(sq))
    const base = privateEngine(sq.params, squeezedW8a8Backend(sq))
    const oneByOne: AsyncLogitsEngine = { seqLen: base.seqLen, backend: base.backend, forward: base.forward } // no prefill
    for (const [p, steps] of [['Once upon a time', 40], ['The little dog was sad because', 6], ['', 10]] as const) {
      const x = await tokens(onePass, tok, 1, 9, p, steps)
      const y = await tokens(oneByOne, tok, 1, 9, p, steps)
      expect(x, p).toEqual(y)
    }
  })

  it('rejects an empty batch and positions past the context', async () => {
    const engine = privateEngine(plans.unfused.params, squeezedW8a8Backend(plans.unfused))
    await expect(engine.prefill?.([], 0)).rejects.toThrow(/at least one token/)
    await expect(engine.prefill?.([1, 2, 3], ckpt.config.seqLen - 2)).rejects.toThrow(/outside the model's context/)
  })
})

describe('concurrency', () => {
  it('a round\'s jobs go out together, at most maxInFlight at once', async () => {
    const sq = plans.fused
    let inFlight = 0
    let most = 0
    const local = localHe(seal)
    const slow: MinerLink = {
      name: 'slow',
      prepare: local.miner.prepare,
      async compute (id, inputs, job) {
        inFlight++
        most = Math.max(most, inFlight)
        await new Promise(resolve => setTimeout(resolve, 2))
        try { return await local.miner.compute(id, inputs, job) } finally { inFlight-- }
      }
    }
    const backend = await heBackend(sq, local.session, slow, { maxInFlight: 5 })
    closers.push(backend)
    const engine = privateEngine(sq.params, backend)
    const prompt = encode(tok, 'Once upon a time, there was')
    const logits = Array.from(await engine.prefill?.(prompt, 0) ?? [])
    const twin = privateEngine(sq.params, squeezedW8a8Backend(sq))
    expect(logits).toEqual(Array.from(await twin.prefill?.(prompt, 0) ?? []))
    expect(most).toBe(5)
  })
})

describe('batched packed prefill (issue 11)', () => {
  // stories260K with packed plans: every encrypted matrix gets a prefill plan of B vectors.
  const sq = squeezeModel(ckpt, { network: NETWORKS.lan, rounds: 'unfused', scheme: 'packed', prefill: { batch: 4, vectors: 4 } })
  const B = 4

  it('the squeeze gives every packed matrix a prefill plan near its one-vector plan\'s split, one orbit level deeper where the noise allows', () => {
    for (const g of sq.groups.values()) {
      if (g.placement !== 'encrypted') continue
      g.plans.forEach((p, i) => {
        const pre = g.prefillPlans?.[i]
        expect(pre?.batch).toBe(B)
        const one = p?.packed?.layout
        const split = [pre?.packed?.layout.nI, pre?.packed?.layout.orbitLevels]
        expect([[one?.nI, (one?.orbitLevels ?? 0) + 1], [(one?.nI ?? 0) / 2, one?.orbitLevels], [one?.nI, one?.orbitLevels]]).toContainEqual(split)
        expect(pre?.packed?.layout.vectors).toBeGreaterThan(1)
      })
    }
    const none = squeezeModel(ckpt, { network: NETWORKS.lan, rounds: 'unfused', scheme: 'packed', prefill: false })
    expect([...none.groups.values()].every(g => g.prefillPlans === undefined)).toBe(true)
  })

  it('a prompt of 2B + 3 tokens: two batched jobs per matrix, and the 3 left as single jobs or one padded batch (prefillFrom), the w8a8 twin\'s logits exactly', async () => {
    const jobs = new Map<number, number>() // inputs per job → count
    const backend = await he(sq, real => ({
      ...real,
      async compute (id, inputs, job, blocks) {
        jobs.set(inputs.length, (jobs.get(inputs.length) ?? 0) + 1)
        return await real.compute(id, inputs, job, blocks)
      }
    }))
    const engine = privateEngine(sq.params, backend)
    const twin = privateEngine(sq.params, squeezedW8a8Backend(sq))
    const prompt = encode(tok, 'Once upon a time, there was a little girl named Lily').slice(0, 2 * B + 3)
    expect(prompt.length).toBe(2 * B + 3)
    const logits = Array.from(await engine.prefill?.(prompt, 0) ?? [])
    expect(logits).toEqual(Array.from(await twin.prefill?.(prompt, 0) ?? []))
    // the next token, one vector per job, continues exactly
    expect(Array.from(await engine.forward(prompt[0], prompt.length))).toEqual(Array.from(await twin.forward(prompt[0], prompt.length)))
    const matrices = [...sq.groups.values()].filter(g => g.placement === 'encrypted').reduce((a, g) => a + g.matrices.length, 0)
    const single = [...sq.groups.values()].find(g => g.placement === 'encrypted')?.plans[0]?.packed?.layout
    const batched = [...sq.groups.values()].find(g => g.placement === 'encrypted')?.prefillPlans?.[0]?.packed?.layout
    expect(single !== undefined && batched !== undefined).toBe(true)
    const total = [...jobs.values()].reduce((a, n) => a + n, 0)
    const padded = [...sq.groups.values()].filter(g => g.placement === 'encrypted').flatMap(g => g.matrices.map((_m, i) => (g.prefillFrom?.[i] ?? Infinity) <= 3))
    const nPadded = padded.filter(Boolean).length
    expect(total).toBe(matrices * 2 + nPadded + (matrices - nPadded) * 3 + matrices) // the prompt's jobs, then the token's
    expect(backend.stats.verified).toBe(matrices * (2 * B + 3 + 1)) // every real vector checked (a padded batch's zeros are not counted)
    expect(backend.stats.rejected).toBe(0)
  })

  it('coefficient matrices (stories260K\'s plan for lan) take packed prefill batches; a short prompt goes as one batch padded with zero vectors where predicted cheaper — the twin\'s logits exactly, only real vectors reported as activations', async () => {
    const coeff = squeezeModel(ckpt, { network: NETWORKS.lan, rounds: 'unfused' })
    const encrypted = [...coeff.groups.values()].filter(g => g.placement === 'encrypted')
    let coefficient = 0
    for (const g of encrypted) {
      g.matrices.forEach((m, i) => {
        if (g.plans[i]?.scheme !== 'coeff') return // packed where results pay: its own prefill plan (above)
        coefficient++
        const pre = g.prefillPlans?.[i]
        expect(pre?.scheme).toBe('packed')
        expect(pre?.batch).toBe(16)
        // at most COEFF_PREFILL_ENCODING_BYTES of prefill encoding per matrix
        expect(8 * (pre?.packed?.layout.vectors ?? 0) * m.rows * m.cols).toBeLessThanOrEqual(4 * 2 ** 20)
        expect(g.prefillFrom?.[i]).toBeGreaterThanOrEqual(2)
        expect(g.prefillFrom?.[i]).toBeLessThanOrEqual(5)
      })
    }
    const inputs = new Map<number, number>() // ciphertexts per job → jobs
    const local = localHe(seal)
    const backend = await heBackend(coeff, local.session, { ...local.miner, async compute (id, cts, job, blocks) { inputs.set(cts.length, (inputs.get(cts.length) ?? 0) + 1); return await local.miner.compute(id, cts, job, blocks) } }, { onQuantizedInput: () => { reported++ } })
    let reported = 0
    closers.push(backend)
    const prompt = encode(tok, 'Once upon a time').slice(0, 5)
    expect(prompt.length).toBe(5)
    const logits = Array.from(await privateEngine(coeff.params, backend).prefill?.(prompt, 0) ?? [])
    expect(logits).toEqual(Array.from(await privateEngine(coeff.params, squeezedW8a8Backend(coeff)).prefill?.(prompt, 0) ?? []))
    expect(coefficient).toBeGreaterThan(0)
    const matrices = encrypted.reduce((a, g) => a + g.matrices.length, 0)
    const padded = encrypted.flatMap(g => g.matrices.map((_m, i) => (g.prefillFrom?.[i] ?? Infinity) <= 5)).filter(Boolean).length
    expect(padded).toBeGreaterThanOrEqual(coefficient)
    expect([...inputs.values()].reduce((a, n) => a + n, 0)).toBe(padded + (matrices - padded) * 5) // one padded batch each where cheaper
    expect(reported).toBe(matrices * 5)
    expect(backend.stats.verified).toBe(matrices * 5) // the zero vectors are checked, not counted
    expect(backend.stats.verifiedJobs).toBe(padded + (matrices - padded) * 5)
    expect(backend.stats.keyBytes).toBeGreaterThan(0) // the batches needed the session's Galois keys
  })

  it('a miner that corrupts one row of one vector of a batched job is caught, and the job is re-run (same logits)', async () => {
    let lied = false
    const rejectedBy: string[] = []
    const local = localHe(seal)
    const liar: MinerLink = {
      ...local.miner,
      name: 'pair',
      async compute (id, inputs, job, blocks) {
        const r = await local.miner.compute(id, inputs, job, blocks)
        if (!lied && id.includes('*')) {
          // one bit of the last c0 coefficient: one row of one vector wrong, the job well-formed
          lied = true
          const results = r.results.map(c => c.slice())
          const last = results[results.length - 1]
          last[last.length - 1] ^= 1
          return { ...r, results, miner: 'liar' }
        }
        return { ...r, miner: 'honest' }
      },
      reject: (m) => { rejectedBy.push(m) }
    }
    const backend = await heBackend(sq, local.session, liar, { maxAttempts: 3 })
    closers.push(backend)
    const prompt = encode(tok, 'Once upon a time').slice(0, B)
    const logits = Array.from(await privateEngine(sq.params, backend).prefill?.(prompt, 0) ?? [])
    expect(logits).toEqual(Array.from(await privateEngine(sq.params, squeezedW8a8Backend(sq)).prefill?.(prompt, 0) ?? []))
    expect(lied).toBe(true)
    expect(backend.stats.rejected).toBe(1)
    expect(rejectedBy).toEqual(['liar'])
    expect(backend.stats.keyRotations).toBe(1)
  })
})
