import { describe, expect, it } from 'vitest'
import { HeParamsError } from './errors.ts'
import { automorphism, keySetElements, levelElement, levelSealElements, sealStep } from './galois.ts'
import { RING_PRESETS } from './params.ts'
import { makePackedPlan, makePlan, planFromData, planToData, type PlanData } from './plan.ts'

describe('plans on the wire', () => {
  it('round-trip every scheme, batch and packed field, re-derived on arrival', () => {
    const plans = [
      makePlan(64, 64, RING_PRESETS.n2048, 32),
      makePlan(64, 64, RING_PRESETS.n2048, 32, 7),
      makePackedPlan(768, 768, RING_PRESETS.n4096ks, { nI: 1024, orbitLevels: 1 }),
      makePackedPlan(300, 50, RING_PRESETS.testN256ks, { nI: 64, orbitLevels: 2, vectors: 2, batch: 5 })
    ]
    for (const p of plans) expect(planFromData(planToData(p))).toEqual(p)
    expect(planToData(plans[0])).toEqual({ dOut: 64, dIn: 64, preset: 'n2048', nI: 32 }) // unchanged for today's plans
  })

  const packed = planToData(makePackedPlan(300, 50, RING_PRESETS.testN256ks, { nI: 64, orbitLevels: 2 }))
  const bad: Array<[string, PlanData, RegExp]> = [
    ['a t that is not prime', { ...packed, plainModulus: (packed.plainModulus ?? 0) + 512 * 3 }, /not a prime|cannot hold|does not match/],
    ['a t too small for d_in', { ...packed, plainModulus: 7681 }, /cannot hold a 50-wide dot product/],
    ['a t not ≡ 1 mod 2N', { ...packed, plainModulus: 1000003 }, /cannot hold|not a prime ≡ 1/],
    ['too deep an orbit', { ...packed, orbitLevels: 9 }, /orbit levels b = 9/],
    ['vectors not a power of two', { ...packed, vectors: 3 }, /3 vectors per ciphertext/],
    ['n_i not a power of two', { ...packed, nI: 48 }, /power of two/],
    ['a noise bound above any matrix\'s', { ...packed, noiseBits16: 10_000 }, /declared input noise bound/],
    ['missing packed fields', { ...packed, orbitLevels: undefined }, /needs t, the orbit levels/],
    ['packed fields on a coefficient plan', { dOut: 8, dIn: 8, preset: 'n2048', nI: 8, orbitLevels: 1 }, /carries packed fields/],
    ['a packed plan on a one-prime preset', { ...packed, preset: 'insecure-n256' }, /no special prime/],
    ['a huge batch', { ...packed, batch: 100_000 }, /batch 100000/],
    ['an unknown scheme', { ...packed, scheme: 'simd' as 'packed' }, /unknown scheme/]
  ]
  for (const [what, d, message] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => planFromData(d)).toThrow(HeParamsError)
      expect(() => planFromData(d)).toThrow(message)
    })
  }
})

describe('Galois elements', () => {
  it('reaches every level element by SEAL rotation steps (level 2 by two)', () => {
    for (const n of [256, 1024, 4096]) {
      for (const g of keySetElements(n)) expect(() => sealStep(n, g)).not.toThrow()
      expect(levelSealElements(n, 2)).toEqual([2 * n - 5, 2 * n - 1])
      expect(((2 * n - 5) * (2 * n - 1)) % (2 * n)).toBe(5)
    }
    expect(keySetElements(4096)).toEqual([9, 17, 33, 65, 129, 257, 513, 1025, 2049, 4097, 8187, 8191])
    expect(sealStep(4096, 4097)).toBe(1024) // the probe's table
    expect(() => sealStep(4096, 5)).toThrow(/not a power of 3/)
  })

  it('τ_(2^ℓ+1) fixes multiples of N/2^(ℓ−1) and negates odd multiples of N/2^ℓ', () => {
    const n = 256
    for (let l = 2; 2 ** l <= n; l++) {
      const a = automorphism(n, levelElement(n, l))
      const h = n >> l
      for (let i = 0; i < n; i += h) {
        expect(a.index[i]).toBe(i)
        expect(a.negate[i]).toBe((i / h) % 2)
      }
    }
  })
})
