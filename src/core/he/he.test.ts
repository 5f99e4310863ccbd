/**
 * The encrypted matvec equals the plaintext int8 matvec, bit for bit — one suite, run on
 * real SEAL (tiny insecure rings for many random shapes; the 128-bit preset for the
 * benchmark shapes and every matrix of stories260K).
 */
import { prng, randomInt8, stories260K } from '../../test/fixtures.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCheckpoint } from '../model/checkpoint.ts'
import { matvecInt8, quantizeActivation, quantizeModel } from '../model/w8a8.ts'
import { createHeMiner, type HeMiner } from './miner.ts'
import { measureNoiseBudget, MIN_NOISE_BUDGET_BITS } from './noise.ts'
import { RING_PRESETS, type RingPreset } from './params.ts'
import { makePlan } from './plan.ts'
import { planMatvec, predictNoiseBudget } from './planner.ts'
import { loadSeal, type Seal } from './seal.ts'
import { parseSeeded, seededBytes } from './seal-bytes.ts'
import { createHeUser, type HeUser } from './user.ts'

let seal: Seal
let user: HeUser
let miner: HeMiner
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

function encrypted (w: Int8Array, dOut: number, dIn: number, x: Int8Array, preset: RingPreset, nI?: number): Int32Array {
  const plan = nI === undefined ? planMatvec(dOut, dIn, { presets: [preset] }).plan : makePlan(dOut, dIn, preset, nI)
  const m = miner.prepare(plan, w)
  try {
    return user.decryptResults(plan, miner.compute(m, user.encryptInput(plan, x)))
  } finally {
    m.delete()
  }
}

describe('encrypted matvec == int8 matvec (insecure N=256 ring, many shapes)', () => {
  const rand = prng(7)
  const shapes: Array<[number, number, number]> = [[1, 1, 1], [1, 200, 13], [200, 1, 1], [5, 7, 7], [64, 64, 16], [100, 37, 8], [37, 100, 100], [256, 256, 32], [300, 17, 3], [33, 255, 255]]
  for (const [dOut, dIn, nI] of shapes) {
    for (const kind of ['random', 'extreme', 'sparse'] as const) {
      it(`${dOut}×${dIn}, n_i=${nI}, ${kind}`, () => {
        const w = randomInt8(dOut * dIn, rand, kind)
        const x = randomInt8(dIn, rand, kind === 'sparse' ? 'random' : kind)
        expect(encrypted(w, dOut, dIn, x, RING_PRESETS.testN256, nI)).toEqual(reference(w, dOut, dIn, x))
      })
    }
  }

  it('an all-zero matrix, and all-zero blocks among non-zero ones', () => {
    const w = new Int8Array(40 * 30)
    const x = randomInt8(30, rand)
    expect(Array.from(encrypted(w, 40, 30, x, RING_PRESETS.testN256, 10))).toEqual(new Array(40).fill(0))
    for (let j = 0; j < 30; j++) w[35 * 30 + j] = j % 2 === 0 ? 127 : -127
    expect(encrypted(w, 40, 30, x, RING_PRESETS.testN256, 10)).toEqual(reference(w, 40, 30, x))
  })

  it('-128 never occurs: int8 values are symmetric ±127, as the quantizer makes them', () => {
    // the bound d_in·127² sizes t; a −128·−128 product would exceed it
    const q = new Int8Array(64)
    quantizeActivation(Float32Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? -1 : 0.5)), q)
    expect(Math.min(...q)).toBe(-127)
  })
})

describe('encrypted matvec == int8 matvec (128-bit N=2048 ring, benchmark shapes)', () => {
  const rand = prng(11)
  for (const [dOut, dIn] of [[64, 64], [768, 768], [3072, 768], [768, 3072]] as const) {
    it(`${dOut}×${dIn}, planned split, random and extreme values`, () => {
      for (const kind of ['random', 'extreme'] as const) {
        const w = randomInt8(dOut * dIn, rand, kind)
        const x = randomInt8(dIn, rand, kind)
        expect(encrypted(w, dOut, dIn, x, RING_PRESETS.n2048)).toEqual(reference(w, dOut, dIn, x))
      }
    })
  }

  it('4096×4096 (t = 2^27, 64 chunks × 128 blocks)', () => {
    const w = randomInt8(4096 * 4096, rand, 'extreme')
    const x = randomInt8(4096, rand, 'extreme')
    expect(encrypted(w, 4096, 4096, x, RING_PRESETS.n2048, 64)).toEqual(reference(w, 4096, 4096, x))
  })

  it('every linear matrix of stories260K on real activations', () => {
    const ckpt = parseCheckpoint(stories260K().model)
    const model = quantizeModel(ckpt)
    const x8 = new Int8Array(ckpt.config.hiddenDim)
    for (const [key, mats] of model.groups) {
      for (const m of mats) {
        const x = x8.subarray(0, m.cols)
        quantizeActivation(Float32Array.from({ length: m.cols }, (_, i) => Math.sin(i * 0.37 + key.length)), x)
        expect(encrypted(m.q, m.rows, m.cols, x, RING_PRESETS.n2048), `${key} ${m.rows}×${m.cols}`).toEqual(reference(m.q, m.rows, m.cols, x))
      }
    }
  })
})

describe('noise', () => {
  for (const [dOut, dIn] of [[768, 768], [3072, 768], [768, 3072], [64, 4096]] as const) {
    it(`the planned ${dOut}×${dIn} keeps ≥ ${MIN_NOISE_BUDGET_BITS} bits, at least the predicted budget`, () => {
      const { plan } = planMatvec(dOut, dIn)
      const measured = measureNoiseBudget(seal, plan)
      expect(measured).toBeGreaterThanOrEqual(MIN_NOISE_BUDGET_BITS)
      expect(measured).toBeGreaterThanOrEqual(Math.floor(predictNoiseBudget(plan)))
    })
  }
})

describe('SEAL serialization', () => {
  it('rebuilds SEAL\'s seeded ciphertext byte for byte', () => {
    const plan = makePlan(8, 8, RING_PRESETS.n2048, 8)
    const ctxUser = createHeUser(seal)
    const wire = ctxUser.encryptInput(plan, new Int8Array(8).fill(3))
    expect(wire).toHaveLength(1)
    ctxUser.dispose()
    // Round-trip a SEAL seeded ciphertext through our parser and builder.
    const keyed = (() => {
      const parms = new seal.EncryptionParameters(seal.SchemeType.bfv)
      parms.setPolyModulusDegree(2048)
      parms.setCoeffModulus(seal.CoeffModulus.Create(2048, Int32Array.from([54])))
      parms.setPlainModulus(new seal.Modulus(1n << 20n))
      const context = new seal.SEALContext(parms, true, seal.SecLevelType.tc128)
      const kg = new seal.KeyGenerator(context)
      const sk = kg.secretKey()
      const enc = new seal.Encryptor(context, kg.createPublicKey(), sk)
      const ser = enc.encryptSymmetricSerializable(new seal.Plaintext(2048))
      return ser.saveToArray(seal.ComprModeType.none) as Uint8Array
    })()
    expect(seededBytes(parseSeeded(keyed))).toEqual(keyed)
  })
})
