/**
 * The packed encrypted matvec equals the int8 matvec and its plaintext twin, bit for bit,
 * on real SEAL: insecure N = 256/1024 rings for many shapes, splits, batches and block
 * ranges; the 128-bit N = 4096 preset for the model shapes on extreme data. And its noise
 * stays inside the bound the plan was made with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prng } from '../../test/fixtures.ts'
import { matvecInt8 } from '../model/w8a8.ts'
import { createHeMiner, type GaloisKeyHandle, type HeMiner } from './miner.ts'
import { packedLayout } from './packed-layout.ts'
import { matrixInputNoiseBits } from './packed-noise.ts'
import { measurePackedNoise } from './packed-noise-check.ts'
import { packedPlainModulus } from './packed-params.ts'
import { matvecPackedTwin } from './packed-twin.ts'
import { paramsKey, RING_PRESETS, type RingPreset } from './params.ts'
import { makePackedPlan, type MatvecPlan } from './plan.ts'
import { DEFAULT_COST_MODEL, planMatvec } from './planner.ts'
import { loadSeal, type Seal } from './seal.ts'
import { createHeUser, type HeUser } from './user.ts'
import { randomInt8 } from '../../test/fixtures.ts'

let seal: Seal
let user: HeUser
let miner: HeMiner
const loaded = new Map<string, GaloisKeyHandle>()
beforeAll(async () => {
  seal = await loadSeal()
  user = createHeUser(seal)
  miner = createHeMiner(seal)
})
afterAll(() => {
  user.dispose()
  miner.dispose()
})

function reference (w: Int8Array, dOut: number, dIn: number, x: Int8Array): Int32Array {
  const y = new Int32Array(dOut)
  matvecInt8(w, dOut, dIn, x, y)
  return y
}

/** The session's keys for a plan's parameters, sent once. */
function keysFor (plan: MatvecPlan): GaloisKeyHandle {
  const key = paramsKey(plan.params)
  let h = loaded.get(key)
  if (h === undefined) {
    h = miner.loadGaloisKeys(user.galoisKeys(plan), plan)
    loaded.set(key, h)
  }
  return h
}

/** A packed plan whose noise bound is the matrix's own. */
function planFor (w: Int8Array, dOut: number, dIn: number, preset: RingPreset, nI: number, b: number, v = 1, batch = 1, t?: number): MatvecPlan {
  const probe = makePackedPlan(dOut, dIn, preset, { nI, orbitLevels: b, vectors: v, batch, plainModulus: t, noiseBits16: 0 })
  const L = probe.packed?.layout ?? packedLayout(dOut, dIn, preset.polyDegree, { m: Math.log2(preset.polyDegree / nI), orbitLevels: b })
  const bits = matrixInputNoiseBits(L, w, { polyDegree: preset.polyDegree, plainModulus: 0, dataBits: preset.coeffBits[0], specialBits: preset.coeffBits[1] })
  return makePackedPlan(dOut, dIn, preset, { nI, orbitLevels: b, vectors: v, batch, plainModulus: t, noiseBits16: b === 0 ? undefined : Math.max(0, Math.ceil(16 * bits)) })
}

function encrypted (plan: MatvecPlan, w: Int8Array, xs: readonly Int8Array[]): Int32Array[] {
  const m = miner.prepare(plan, w)
  try {
    return user.decryptBatch(plan, miner.compute(m, user.encryptBatch(plan, xs), keysFor(plan)))
  } finally {
    m.delete()
  }
}

describe('packed matvec == int8 matvec == twin (insecure N = 256, many shapes, splits and batches)', () => {
  const rand = prng(2025)
  // One t for every shape here (the widest d_in's): one key set for the whole suite.
  const t = packedPlainModulus(300, 256)
  const cases: Array<[number, number, number, number, number, number]> = [
    // dOut, dIn, n_i, b, vectors, batch
    [1, 1, 128, 0, 1, 1], [5, 7, 64, 1, 1, 1], [64, 64, 64, 2, 1, 1], [100, 37, 32, 2, 1, 1], [37, 100, 128, 2, 1, 1],
    [200, 128, 128, 2, 1, 1], [256, 64, 64, 3, 1, 1], [300, 17, 16, 2, 2, 3], [33, 200, 64, 3, 4, 5], [120, 60, 64, 0, 1, 2],
    [96, 32, 32, 3, 8, 8], [500, 20, 32, 4, 1, 1], [64, 128, 128, 4, 1, 1], [10, 300, 64, 2, 2, 4], [257, 255, 128, 3, 1, 1]
  ]
  for (const [dOut, dIn, nI, b, v, batch] of cases) {
    for (const kind of ['random', 'extreme'] as const) {
      it(`${dOut}×${dIn}, n_i=${nI}, b=${b}, ${v} vectors/ct, batch ${batch}, ${kind}`, () => {
        const w = randomInt8(dOut * dIn, rand, kind)
        const xs = Array.from({ length: batch }, () => randomInt8(dIn, rand, kind))
        const plan = planFor(w, dOut, dIn, RING_PRESETS.testN256ks, nI, b, v, batch, t)
        const want = xs.map(x => reference(w, dOut, dIn, x))
        const got = encrypted(plan, w, xs)
        expect(got).toEqual(want)
        expect(matvecPackedTwin(plan.packed!.layout, w, xs, t)).toEqual(want)
      })
    }
  }

  it('all −128 (the extreme t allows), an all-zero matrix, and all-zero blocks among non-zero ones', () => {
    const m128 = new Int8Array(70 * 90).fill(-128)
    const x = new Int8Array(90).fill(-128)
    expect(encrypted(planFor(m128, 70, 90, RING_PRESETS.testN256ks, 128, 2, 1, 1, t), m128, [x])[0]).toEqual(reference(m128, 70, 90, x))
    const w = new Int8Array(200 * 30)
    const xr = randomInt8(30, rand)
    expect(Array.from(encrypted(planFor(w, 200, 30, RING_PRESETS.testN256ks, 32, 2, 1, 1, t), w, [xr])[0])).toEqual(new Array(200).fill(0))
    for (let j = 0; j < 30; j++) w[150 * 30 + j] = j % 2 === 0 ? 127 : -128 // one non-zero row: every other merged leaf is zero
    expect(encrypted(planFor(w, 200, 30, RING_PRESETS.testN256ks, 32, 2, 1, 1, t), w, [xr])[0]).toEqual(reference(w, 200, 30, xr))
  })

  it('block ranges computed on their own (a worker pool\'s split) decrypt as their union, in any order', () => {
    const [dOut, dIn] = [400, 50]
    const w = randomInt8(dOut * dIn, rand)
    const xs = [randomInt8(dIn, rand), randomInt8(dIn, rand)]
    const plan = planFor(w, dOut, dIn, RING_PRESETS.testN256ks, 64, 2, 1, 2, t)
    const blocks = plan.split.blocks
    const ranges: Array<[number, number]> = [[0, 3], [3, 17], [17, blocks]]
    const up = user.encryptBatch(plan, xs)
    const results = ranges.flatMap(r => {
      const m = miner.prepare(plan, w, r)
      try { return miner.compute(m, up, keysFor(plan)) } finally { m.delete() }
    })
    expect(user.decryptBatch(plan, results.reverse())).toEqual(xs.map(x => reference(w, dOut, dIn, x)))
    // A prepared range may also be computed a part at a time.
    const m = miner.prepare(plan, w)
    const parts = [miner.compute(m, up, keysFor(plan), [0, 9]), miner.compute(m, up, keysFor(plan), [9, blocks])].flat()
    m.delete()
    expect(user.decryptBatch(plan, parts)).toEqual(xs.map(x => reference(w, dOut, dIn, x)))
    expect(() => user.decryptBatch(plan, results.slice(1))).toThrow(/cover block/)
    expect(() => user.decryptBatch(plan, [...results, results[0]])).toThrow(/cover block/)
  })
})

describe('batched prefill (insecure N = 1024): T vectors in one job == T separate products', () => {
  const rand = prng(77)
  const [dOut, dIn] = [300, 200]
  const w = randomInt8(dOut * dIn, rand)
  for (const batch of [1, 3, 32]) {
    it(`T = ${batch}: one job, inputs and results packed densely`, () => {
      const xs = Array.from({ length: batch }, () => randomInt8(dIn, rand))
      const { plan } = planMatvec(dOut, dIn, { scheme: 'packed', batch, weights: w, packedPresets: [RING_PRESETS.testN1024ks], cost: { ...DEFAULT_COST_MODEL, 1024: DEFAULT_COST_MODEL[4096] } })
      const L = plan.packed!.layout
      expect(L.groups * L.chunks).toBeLessThanOrEqual(Math.ceil(batch / L.vectors) * L.chunks)
      const up = user.encryptBatch(plan, xs)
      expect(up).toHaveLength(L.groups * L.chunks)
      const m = miner.prepare(plan, w)
      const down = miner.compute(m, up, keysFor(plan))
      m.delete()
      expect(down.length).toBe(L.trees)
      expect(L.trees).toBeLessThanOrEqual(Math.ceil((batch * dOut) / (1024 / 4)))
      expect(user.decryptBatch(plan, down)).toEqual(xs.map(x => reference(w, dOut, dIn, x)))
    })
  }
})

describe('packed matvec on the 128-bit N = 4096 preset, all ±127/−128 extreme data', () => {
  const shapes: Array<[number, number, number, number]> = [
    // dOut, dIn, n_i, b (deep enough to exercise the orbit, shallow enough for constant matrices)
    [768, 768, 1024, 3], [2304, 768, 1024, 3], [3072, 768, 1024, 3], [768, 3072, 1024, 2], [768, 2048, 2048, 2], [4096, 4096, 512, 2]
  ]
  for (const [dOut, dIn, nI, b] of shapes) {
    it(`${dOut}×${dIn}: exact, one result ciphertext per 4096 results`, () => {
      const w = new Int8Array(dOut * dIn)
      for (let i = 0; i < w.length; i++) w[i] = (i * 7) % 3 === 0 ? -128 : 127
      const x = new Int8Array(dIn)
      for (let i = 0; i < dIn; i++) x[i] = i % 5 === 0 ? 127 : -128
      const plan = planFor(w, dOut, dIn, RING_PRESETS.n4096ks, nI, b)
      const m = miner.prepare(plan, w)
      const down = miner.compute(m, user.encryptInput(plan, x), keysFor(plan))
      m.delete()
      expect(down).toHaveLength(Math.ceil(dOut / 4096))
      expect(user.decryptResults(plan, down)).toEqual(reference(w, dOut, dIn, x))
    }, 120_000)
  }
})

describe('noise: the exact phase stays inside the plan\'s bound', () => {
  const cases: Array<[string, RingPreset, number, number, number, number]> = [
    ['N = 1024', RING_PRESETS.testN1024ks, 256, 200, 64, 1], ['N = 1024', RING_PRESETS.testN1024ks, 256, 200, 64, 3], ['N = 1024', RING_PRESETS.testN1024ks, 500, 100, 128, 2],
    ['N = 4096', RING_PRESETS.n4096ks, 768, 768, 1024, 3]
  ]
  for (const [ring, preset, dOut, dIn, nI, b] of cases) {
    for (const kind of ['constant', 'random'] as const) {
      it(`${ring}, ${dOut}×${dIn}, b = ${b}, ${kind} ±127/−128 data: measured margins ≥ predicted`, () => {
        const rand = prng(dOut + b)
        const w = kind === 'constant' ? new Int8Array(dOut * dIn).fill(127) : randomInt8(dOut * dIn, rand, 'extreme')
        const x = kind === 'constant' ? new Int8Array(dIn).fill(-128) : randomInt8(dIn, rand, 'extreme')
        const plan = planFor(w, dOut, dIn, preset, nI, b)
        const r = measurePackedNoise(seal, plan, w, [x])
        expect(r.exact).toBe(true)
        expect(r.heMarginBits).toBeGreaterThanOrEqual(r.predictedHeMarginBits)
        expect(r.marginBits).toBeGreaterThanOrEqual(r.predictedMarginBits)
      }, 60_000)
    }
  }

  it('the planner\'s early answer: with a cap at or above the exact bound the value is the same; below it, +Infinity', () => {
    const preset = RING_PRESETS.testN1024ks
    const p = { polyDegree: preset.polyDegree, plainModulus: 0, dataBits: preset.coeffBits[0], specialBits: preset.coeffBits[1] }
    for (const w of [new Int8Array(256 * 200).fill(127), randomInt8(256 * 200, prng(5), 'extreme'), randomInt8(256 * 200, prng(6), 'sparse')]) {
      const L = packedLayout(256, 200, preset.polyDegree, { m: Math.log2(preset.polyDegree / 64), orbitLevels: 3 })
      const bits = matrixInputNoiseBits(L, w, p)
      const n16 = Math.ceil(16 * bits)
      expect(matrixInputNoiseBits(L, w, p, n16)).toBe(bits)
      expect(matrixInputNoiseBits(L, w, p, n16 + 40)).toBe(bits)
      expect(matrixInputNoiseBits(L, w, p, n16 - 1)).toBe(Infinity)
    }
  })

  it('the miner refuses a matrix noisier than its plan declares', () => {
    const w = new Int8Array(256 * 200).fill(127)
    const quiet = planFor(randomInt8(256 * 200, prng(1), 'sparse'), 256, 200, RING_PRESETS.testN1024ks, 64, 3)
    expect(() => miner.prepare(quiet, w)).toThrow(/above the plan's declared bound/)
  })
})
