/**
 * The packed scheme's wire objects — inputs, results, Galois key sets — are validated
 * before SEAL sees a byte: every refusal is a typed HeWireError (or HeJobError), and the
 * miner keeps computing correctly afterwards. Decoders are fuzzed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prng } from '../../test/fixtures.ts'
import { matvecInt8 } from '../model/w8a8.ts'
import { HeJobError, HeWireError } from './errors.ts'
import { decodeGaloisKeys, galoisKeyBytes, MAX_GALOIS_KEY_BYTES } from './galois-keys.ts'
import { keySetElements } from './galois.ts'
import { createHeMiner, type GaloisKeyHandle, type HeMiner, type PreparedMatrix } from './miner.ts'
import { decodePackedInput, decodePackedResult } from './packed-wire.ts'
import { createContext, RING_PRESETS, type HeContext } from './params.ts'
import { makePackedPlan, type MatvecPlan } from './plan.ts'
import { loadSeal, type Seal } from './seal.ts'
import { createHeUser, type HeUser } from './user.ts'
import { parmsFingerprint } from './wire.ts'
import { randomInt8 } from '../../test/fixtures.ts'

let seal: Seal
let user: HeUser
let other: HeUser
let miner: HeMiner
let matrix: PreparedMatrix
let keys: GaloisKeyHandle
let ctx: HeContext
const preset = RING_PRESETS.testN256ks
const plan: MatvecPlan = makePackedPlan(100, 60, preset, { nI: 64, orbitLevels: 2 })
const rand = prng(8)
const w = randomInt8(100 * 60, rand)
const x = randomInt8(60, rand)
const expected = new Int32Array(100)
matvecInt8(w, 100, 60, x, expected)

beforeAll(async () => {
  seal = await loadSeal()
  user = createHeUser(seal)
  other = createHeUser(seal)
  miner = createHeMiner(seal)
  matrix = miner.prepare(plan, w)
  keys = miner.loadGaloisKeys(user.galoisKeys(plan), plan)
  ctx = createContext(seal, plan.params)
})
afterAll(() => {
  ctx.delete()
  user.dispose()
  other.dispose()
  miner.dispose()
})

const primes = (): { polyDegree: number, fingerprint: bigint, dataPrime: bigint, specialPrime: bigint } =>
  ({ polyDegree: 256, fingerprint: parmsFingerprint(ctx.parmsId), dataPrime: ctx.primes[0], specialPrime: ctx.specialPrime ?? 0n })

function works (): void {
  expect(user.decryptResults(plan, miner.compute(matrix, user.encryptInput(plan, x), keys))).toEqual(expected)
}

function mutate (bytes: Uint8Array, f: (b: Uint8Array, dv: DataView) => void): Uint8Array {
  const b = bytes.slice()
  f(b, new DataView(b.buffer))
  return b
}

describe('Galois key sets are validated before SEAL sees them', () => {
  it('has the documented size and element set', () => {
    const bytes = user.galoisKeys(plan)
    expect(bytes.length).toBe(galoisKeyBytes(256, 50, 51))
    expect(decodeGaloisKeys(bytes, primes()).keys.map(k => k.element)).toEqual(keySetElements(256))
    expect(user.galoisKeys(plan)).toEqual(bytes) // the same keys until dispose
  })

  const cases: Array<[string, (b: Uint8Array) => Uint8Array, RegExp]> = [
    ['a truncated key set', b => b.slice(0, b.length - 1), /bytes, expected exactly/],
    ['an oversized key set', () => new Uint8Array(MAX_GALOIS_KEY_BYTES + 1), /more than the 1048576 allowed/],
    ['trailing bytes', b => { const o = new Uint8Array(b.length + 8); o.set(b); return o }, /bytes, expected exactly/],
    ['a tiny buffer', () => new Uint8Array(7), /too short/],
    ['bad magic', b => mutate(b, a => { a[0] = 0 }), /bad magic/],
    ['another object kind', b => mutate(b, a => { a[5] = 3 }), /object kind 3, expected 5/],
    ['other parameters (fingerprint)', b => mutate(b, (_a, dv) => { dv.setBigUint64(8, 99n, true) }), /other parameters/],
    ['another ring', b => mutate(b, (_a, dv) => { dv.setUint16(6, 10, true) }), /ring degree 2\^10/],
    ['other prime widths', b => mutate(b, a => { a[16] = 54 }), /primes of 54\/51 bits, expected 50\/51/],
    ['a wrong key count', b => mutate(b, (_a, dv) => { dv.setUint16(18, 7, true) }), /7 keys, expected the 8/],
    ['a wrong element set', b => mutate(b, (_a, dv) => { dv.setUint32(24, 11, true) }), /element 0 is 11, expected 9/],
    ['a coefficient ≥ its prime', b => mutate(b, a => { for (let i = 56; i < 63; i++) a[i] = 0xff }), /key 9 mod q: coefficient 0 is not below the modulus/],
    ['a malformed seed', b => mutate(b, a => { const o = 56 + Math.ceil(256 * 50 / 8) + Math.ceil(256 * 51 / 8); a[o] = 0 }), /key 9: malformed PRNG seed/]
  ]
  for (const [what, bad, message] of cases) {
    it(`refuses ${what}, and the miner keeps computing`, () => {
      const broken = bad(user.galoisKeys(plan))
      expect(() => miner.loadGaloisKeys(broken, plan)).toThrow(HeWireError)
      expect(() => miner.loadGaloisKeys(broken, plan)).toThrow(message)
      works()
    })
  }

  it('refuses keys for other parameters (another t) and keys of no prepared plan', () => {
    const otherT = makePackedPlan(100, 61, preset, { nI: 64, orbitLevels: 2 })
    expect(otherT.params.plainModulus).not.toBe(plan.params.plainModulus)
    expect(() => miner.loadGaloisKeys(user.galoisKeys(otherT), plan)).toThrow(/other parameters/)
    expect(() => createHeMiner(seal).loadGaloisKeys(user.galoisKeys(plan))).toThrow(/prepared no packed matrix/)
    works()
  })

  it('refuses inputs of another user (keys from another user), and computes without keys for nobody', () => {
    const foreign = miner.loadGaloisKeys(other.galoisKeys(plan), plan)
    expect(foreign.id).not.toBe(keys.id)
    expect(() => miner.compute(matrix, user.encryptInput(plan, x), foreign)).toThrow(/encrypted for Galois key set/)
    expect(() => miner.compute(matrix, user.encryptInput(plan, x))).toThrow(HeJobError)
    foreign.delete()
    expect(() => miner.compute(matrix, other.encryptInput(plan, x), foreign)).toThrow(/not loaded by this miner, or were deleted/)
    works()
  })

  it('reports the heap the expanded keys take', () => {
    expect(keys.heapBytes).toBe(keySetElements(256).length * 4 * 8 * 256)
  })
})

describe('packed inputs and results are validated before SEAL sees them', () => {
  const inputCases: Array<[string, (b: Uint8Array) => Uint8Array, RegExp]> = [
    ['a truncated input', b => b.slice(0, b.length - 1), /bytes, expected exactly/],
    ['a coefficient input where a packed one belongs', b => mutate(b, a => { a[5] = 1 }), /object kind 1, expected 3/],
    ['another width', b => mutate(b, a => { a[16] = 51 }), /51-bit coefficients, expected 50/],
    ['a coefficient ≥ q', b => mutate(b, a => { for (let i = 32; i < 39; i++) a[i] = 0xff }), /coefficient 0 is not below the modulus/],
    ['a malformed seed', b => mutate(b, a => { a[a.length - 65] = 9 }), /malformed PRNG seed/]
  ]
  for (const [what, bad, message] of inputCases) {
    it(`refuses ${what}`, () => {
      const up = user.encryptInput(plan, x)
      expect(() => miner.compute(matrix, [bad(up[0]), ...up.slice(1)], keys)).toThrow(message)
      works()
    })
  }

  const resultCases: Array<[string, (b: Uint8Array) => Uint8Array, RegExp]> = [
    ['a truncated result', b => b.slice(0, b.length - 2), /bytes, expected exactly/],
    ['other widths', b => mutate(b, a => { a[16] = 40 }), /widths 40\//],
    ['a block range outside the plan', b => mutate(b, (_a, dv) => { dv.setUint32(24, 999, true) }), /are not in the plan/],
    ['a wrong result count', b => mutate(b, (_a, dv) => { dv.setUint32(28, 3, true) }), /3 results for blocks/],
    ['a zero block outside its range', b => { const o = new Uint8Array(b.length + 4); o.set(b.subarray(0, 36)); new DataView(o.buffer).setUint32(32, 1, true); new DataView(o.buffer).setUint32(36, 999, true); o.set(b.subarray(36), 40); return o }, /zero block 999/]
  ]
  for (const [what, bad, message] of resultCases) {
    it(`refuses ${what}`, () => {
      const down = miner.compute(matrix, user.encryptInput(plan, x), keys)
      expect(() => user.decryptResults(plan, [bad(down[0]), ...down.slice(1)])).toThrow(HeWireError)
      expect(() => user.decryptResults(plan, [bad(down[0]), ...down.slice(1)])).toThrow(message)
      expect(user.decryptResults(plan, down)).toEqual(expected)
    })
  }
})

describe('fuzzing the packed decoders (random and mutated bytes)', () => {
  it('each decodes or refuses with a HeWireError — nothing else', () => {
    const r = prng(4242)
    const fp = parmsFingerprint(ctx.parmsId)
    const L = plan.packed?.layout
    if (L === undefined) throw new Error('unreachable')
    const seeds = {
      keys: user.galoisKeys(plan),
      input: user.encryptInput(plan, x)[0],
      result: miner.compute(matrix, user.encryptInput(plan, x), keys)[0]
    }
    const decoders = {
      keys: (b: Uint8Array) => decodeGaloisKeys(b, primes()),
      input: (b: Uint8Array) => decodePackedInput(b, { polyDegree: 256, fingerprint: fp, prime: ctx.primes[0], primeBits: ctx.primeBits[0], keyId: keys.id }),
      result: (b: Uint8Array) => decodePackedResult(b, { polyDegree: 256, fingerprint: fp, c0Bits: plan.packed?.widths.c0Bits ?? 0, c1Bits: plan.packed?.widths.c1Bits ?? 0, layout: L })
    }
    let refused = 0
    let accepted = 0
    for (let i = 0; i < 3000; i++) {
      const which = (['keys', 'input', 'result'] as const)[i % 3]
      let b: Uint8Array
      if (i % 7 === 0) {
        b = Uint8Array.from({ length: Math.floor(r() * 400) }, () => Math.floor(r() * 256))
      } else {
        b = seeds[which].slice()
        const flips = 1 + Math.floor(r() * 4)
        // Mostly the header and the first bytes of the body, where the structure is.
        for (let k = 0; k < flips; k++) b[Math.floor(r() < 0.7 ? r() * Math.min(64, b.length) : r() * b.length)] = Math.floor(r() * 256)
        if (r() < 0.2) b = b.slice(0, Math.floor(r() * b.length))
      }
      try {
        decoders[which](b)
        accepted++
      } catch (err) {
        expect(err).toBeInstanceOf(HeWireError)
        refused++
      }
    }
    expect(refused + accepted).toBe(3000)
    expect(refused).toBeGreaterThan(1000)
    works()
  })
})
