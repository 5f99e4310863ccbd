import { prng, randomInt8 } from '../../test/fixtures.ts'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { matvecInt8 } from '../model/w8a8.ts'
import { HeJobError, HeWireError } from './errors.ts'
import { createHeMiner, type HeMiner, type PreparedMatrix } from './miner.ts'
import { RING_PRESETS } from './params.ts'
import { makePlan } from './plan.ts'
import { loadSeal, type Seal } from './seal.ts'
import { createHeUser, type HeUser } from './user.ts'
import { inputWireBytes } from './wire.ts'

let seal: Seal
let user: HeUser
let miner: HeMiner
let matrix: PreparedMatrix
const plan = makePlan(64, 64, RING_PRESETS.n2048, 32)
const rand = prng(5)
const w = randomInt8(64 * 64, rand)
const x = randomInt8(64, rand)
const expected = new Int32Array(64)
matvecInt8(w, 64, 64, x, expected)

beforeAll(async () => {
  seal = await loadSeal()
  user = createHeUser(seal)
  miner = createHeMiner(seal)
  matrix = miner.prepare(plan, w)
})
afterAll(() => {
  user.dispose()
  miner.dispose()
})

function mutate (bytes: Uint8Array, f: (b: Uint8Array, dv: DataView) => void): Uint8Array {
  const b = bytes.slice()
  f(b, new DataView(b.buffer))
  return b
}

describe('input ciphertexts are validated before SEAL sees them', () => {
  const cases: Array<[string, (b: Uint8Array) => Uint8Array, RegExp]> = [
    ['a truncated ciphertext', b => b.slice(0, b.length - 1), /bytes, expected exactly/],
    ['an oversized ciphertext', b => { const o = new Uint8Array(b.length + 64); o.set(b); return o }, /bytes, expected exactly/],
    ['a tiny buffer', () => new Uint8Array(5), /too short/],
    ['bad magic', b => mutate(b, a => { a[0] = 0x58 }), /bad magic/],
    ['a future wire version', b => mutate(b, a => { a[4] = 9 }), /wire version 9, expected 1/],
    ['a result where an input belongs', b => mutate(b, a => { a[5] = 2 }), /object kind 2, expected 1/],
    ['another ring degree', b => mutate(b, (_a, dv) => { dv.setUint16(6, 12, true) }), /ring degree 2\^12, expected 2048/],
    ['a huge declared ring', b => mutate(b, (_a, dv) => { dv.setUint16(6, 40, true) }), /ring degree 2\^40/],
    ['other parameters (fingerprint)', b => mutate(b, (_a, dv) => { dv.setBigUint64(8, 12345n, true) }), /other parameters/],
    ['another coefficient width', b => mutate(b, a => { a[16] = 60 }), /60-bit coefficients, expected 54/],
    ['a coefficient ≥ q', b => mutate(b, a => { for (let i = 20; i < 27; i++) a[i] = 0xff; a[26] |= 0x3f }), /coefficient 0 is not below the modulus/],
    ['a malformed seed', b => mutate(b, a => { a[a.length - 81] = 0 }), /malformed PRNG seed/],
    ['an unknown PRNG', b => mutate(b, a => { a[a.length - 65] = 7 }), /malformed PRNG seed/]
  ]
  for (const [what, bad, message] of cases) {
    it(`refuses ${what}, and the miner keeps working`, () => {
      const inputs = user.encryptInput(plan, x)
      expect(inputs[0].length).toBe(inputWireBytes(2048, 54))
      const broken = [bad(inputs[0]), ...inputs.slice(1)]
      expect(() => miner.compute(matrix, broken)).toThrow(HeWireError)
      expect(() => miner.compute(matrix, broken)).toThrow(message)
      expect(user.decryptResults(plan, miner.compute(matrix, inputs))).toEqual(expected)
    })
  }

  it('refuses a ciphertext encrypted for another parameter set', () => {
    const other = makePlan(64, 64, RING_PRESETS.n4096, 32)
    const foreign = user.encryptInput(other, x)
    expect(() => miner.compute(matrix, foreign.slice(0, 2))).toThrow(/ring degree 2\^12, expected 2048/)
    const sameRingOtherT = makePlan(64, 5000, RING_PRESETS.n2048, 32) // t = 2^27
    const x5000 = new Int8Array(5000)
    const foreign2 = user.encryptInput(sameRingOtherT, x5000).slice(0, 2)
    expect(() => miner.compute(matrix, foreign2)).toThrow(/other parameters/)
  })

  it('refuses the wrong number of ciphertexts, and an unknown matrix', () => {
    const inputs = user.encryptInput(plan, x)
    expect(() => miner.compute(matrix, inputs.slice(1))).toThrow(HeJobError)
    const other = createHeMiner(seal)
    expect(() => other.compute(matrix, inputs)).toThrow(/not prepared by this miner/)
    other.dispose()
  })
})

describe('result ciphertexts are validated before decryption', () => {
  const cases: Array<[string, (b: Uint8Array) => Uint8Array, RegExp]> = [
    ['a truncated result', b => b.slice(0, b.length - 3), /bytes, expected exactly/],
    ['an input where a result belongs', b => mutate(b, a => { a[5] = 1 }), /object kind 1, expected 2/],
    ['another coefficient width', b => mutate(b, a => { a[16] = 20 }), /20-bit coefficients, expected 35/],
    ['another row layout', b => mutate(b, (_a, dv) => { dv.setUint32(20, 7, true) }), /7 rows with stride 32, expected 64 with stride 32/]
  ]
  for (const [what, bad, message] of cases) {
    it(`refuses ${what}`, () => {
      const results = miner.compute(matrix, user.encryptInput(plan, x))
      expect(() => user.decryptResults(plan, [bad(results[0]), ...results.slice(1)])).toThrow(message)
      expect(user.decryptResults(plan, results)).toEqual(expected)
    })
  }

  it('refuses a wrong number of results', () => {
    expect(() => user.decryptResults(plan, [])).toThrow(/0 result ciphertexts, the plan has 1 blocks/)
  })
})

describe('trust boundaries', () => {
  it('the user object exposes no way to get a key out', () => {
    // galoisKeys gives public key material (packed plans): automorphisms, not decryption;
    // precompute makes encryptions of zero for later and returns only whether it has more to do.
    expect(Object.keys(user).sort()).toEqual(['decryptBatch', 'decryptResults', 'dispose', 'encryptBatch', 'encryptInput', 'galoisKeys', 'precompute'])
    expect([user.precompute(), user.precompute()].every(b => typeof b === 'boolean')).toBe(true)
    const inputs = user.encryptInput(plan, x)
    // Inputs are ciphertexts: no plaintext value appears as a run of its bytes.
    for (const ct of inputs) expect(Buffer.from(ct).includes(Buffer.from(x.buffer, x.byteOffset, 16))).toBe(false)
  })

  it('the miner is built from SEAL and bytes only, and its code never touches keys', () => {
    for (const file of ['./miner.ts', './coeff-miner.ts', './packed-miner.ts', './packed-mac.ts', './mac-engine.ts']) {
      const source = readFileSync(new URL(file, import.meta.url), 'utf8')
      for (const keyApi of ['KeyGenerator', 'SecretKey', 'PublicKey', 'Decryptor', 'Encryptor', 'secretKey']) expect(source).not.toContain(keyApi)
    }
    expect(createHeMiner.length).toBe(1) // createHeMiner(seal): nothing else
    expect(Object.keys(miner).sort()).toEqual(['compute', 'computeRaw', 'computeWith', 'dispose', 'loadGaloisKeys', 'macWeights', 'prepare'])
  })

  it('two runs of the same job give bit-identical results (deterministic miners)', () => {
    const inputs = user.encryptInput(plan, x)
    const a = miner.compute(matrix, inputs)
    const other = createHeMiner(seal)
    const m2 = other.prepare(plan, w)
    const b = other.compute(m2, inputs)
    expect(b).toEqual(a)
    other.dispose()
  })
})

describe('bytes from Node transports', () => {
  it('accepts ciphertexts that arrive as Buffer views at an offset (Buffer.slice is a view)', () => {
    const inputs = user.encryptInput(plan, x).map(ct => {
      const pool = Buffer.alloc(ct.length + 52)
      pool.set(ct, 52)
      return pool.subarray(52) // a Buffer, byteOffset 52, sharing a larger ArrayBuffer
    })
    expect(user.decryptResults(plan, miner.compute(matrix, inputs))).toEqual(expected)
  })
})
