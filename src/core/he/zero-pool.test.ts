import { beforeAll, describe, expect, it } from 'vitest'
import { createContext, RING_PRESETS, SECURE_PACKED_PRESETS, type HeContext } from './params.ts'
import { packedPlainModulus } from './packed-params.ts'
import { loadSeal, withScope, type Seal } from './seal.ts'
import { plaintextBytes, plaintextCoefficients, seededBytes } from './seal-bytes.ts'
import { createZeroPool, MAX_POOLED_ZEROS } from './zero-pool.ts'
import { makePlan } from './plan.ts'
import { createHeUser } from './user.ts'

let seal: Seal
beforeAll(async () => { seal = await loadSeal() })

// SEAL's own decryption of a pooled encryption, and its noise budget beside SEAL's encryption of the same input
function check (ctx: HeContext, t: number, x: Int8Array, count: number): { decoded: number[], budget: number, sealBudget: number } {
  return withScope(scope => {
    const keygen = scope.own(new seal.KeyGenerator(ctx.context))
    const sk = scope.own(keygen.secretKey())
    const pk = scope.own(keygen.createPublicKey())
    const encryptor = scope.own(new seal.Encryptor(ctx.context, pk, sk))
    const decryptor = scope.own(new seal.Decryptor(ctx.context, sk))
    const pool = createZeroPool(ctx, encryptor)
    const z = pool.encrypt(x, 0, count)
    const ct = scope.own(new seal.Ciphertext())
    ct.loadFromArray(ctx.context, seededBytes({ parmsId: ctx.parmsId, polyDegree: ctx.polyDegree, limbs: 1, c0: z.c0, seedBlob: z.seedBlob }))
    const pt = scope.own(new seal.Plaintext())
    decryptor.decrypt(ct, pt)
    const coeffsOut = plaintextCoefficients(pt.saveToArray(seal.ComprModeType.none) as Uint8Array, ctx.polyDegree)
    const decoded = Array.from({ length: count }, (_, j) => {
      const m = Number(coeffsOut[j] ?? 0)
      return m > t / 2 ? m - t : m
    })
    // the same input through SEAL's own encryption, for the noise
    const coeffs = new Uint32Array(ctx.polyDegree)
    for (let j = 0; j < count; j++) coeffs[j] = x[j] < 0 ? t + x[j] : x[j]
    const plain = scope.own(new seal.Plaintext())
    plain.loadFromArray(ctx.context, plaintextBytes(coeffs))
    const direct = scope.own(new seal.Ciphertext())
    encryptor.encryptSymmetric(plain, direct)
    return { decoded, budget: decryptor.invariantNoiseBudget(ct), sealBudget: decryptor.invariantNoiseBudget(direct) }
  })
}

describe('encryption split into a zero made ahead and the input added later', () => {
  it('decrypts, with SEAL\'s own decryptor, to the input — every int8 value, at both ring sizes and with a packed plan\'s prime t — with SEAL\'s noise', () => {
    const prime = packedPlainModulus(768, 4096) // a packed plan's t: a prime, not a power of two
    for (const { preset, plainBits, plainModulus } of [{ preset: RING_PRESETS.n2048, plainBits: 20 }, { preset: RING_PRESETS.n4096, plainBits: 20 }, { preset: SECURE_PACKED_PRESETS[0], plainBits: Math.ceil(Math.log2(prime)), plainModulus: prime }]) {
      const ctx = createContext(seal, { preset, plainBits, ...(plainModulus === undefined ? {} : { plainModulus }) })
      try {
        const x = new Int8Array(256)
        for (let j = 0; j < 256; j++) x[j] = j - 128 // −128 … 127, zero included
        for (let j = 0, k = 7; j < 40; j++, k = (k * 73 + 41) % 256) [x[j], x[k]] = [x[k], x[j]] // a fixed shuffle
        const r = check(ctx, plainModulus ?? 2 ** plainBits, x, 256)
        expect(r.decoded).toEqual(Array.from(x))
        expect(Math.abs(r.budget - r.sealBudget)).toBeLessThanOrEqual(1)
        expect(r.budget).toBeGreaterThan(0)
      } finally {
        ctx.delete()
      }
    }
  })

  it('keeps as many zeros as asked for, up to its bound, uses each once, and drops them all', () => {
    const ctx = createContext(seal, { preset: RING_PRESETS.n2048, plainBits: 20 })
    try {
      withScope(scope => {
        const keygen = scope.own(new seal.KeyGenerator(ctx.context))
        const sk = scope.own(keygen.secretKey())
        const pk = scope.own(keygen.createPublicKey())
        const pool = createZeroPool(ctx, scope.own(new seal.Encryptor(ctx.context, pk, sk)))
        expect(pool.short).toBe(false) // nothing asked for yet: nothing made ahead
        pool.want(3)
        while (pool.short) pool.fill()
        expect(pool.size).toBe(3)
        const a = pool.encrypt(new Int8Array(4), 0, 4)
        const b = pool.encrypt(new Int8Array(4), 0, 4)
        expect(pool.size).toBe(1)
        expect(a.seedBlob).not.toEqual(b.seedBlob) // fresh randomness each
        expect(a.c0).not.toBe(b.c0)
        pool.want(10 * MAX_POOLED_ZEROS)
        let steps = 0
        while (pool.short && steps++ < 2 * MAX_POOLED_ZEROS) pool.fill()
        expect(pool.size).toBe(MAX_POOLED_ZEROS)
        pool.clear()
        expect(pool.size).toBe(0)
        pool.encrypt(new Int8Array(4), 0, 4) // an empty pool makes one on the spot
      })
    } finally {
      ctx.delete()
    }
  })

  it('the user asks for zeros like the jobs it encrypts, and precompute makes them one at a time', () => {
    const user = createHeUser(seal)
    try {
      const plan = makePlan(64, 96, RING_PRESETS.n2048, 32) // 3 input chunks
      expect(user.precompute()).toBe(false) // no job yet: nothing to make ahead
      user.encryptInput(plan, new Int8Array(96).fill(-3))
      let steps = 0
      while (user.precompute()) steps++
      expect(steps + 1).toBe(2 * plan.split.chunks) // two jobs' worth, one zero per call
      user.encryptInput(plan, new Int8Array(96).fill(5)) // takes three of them
      expect(user.precompute()).toBe(true)
    } finally {
      user.dispose()
    }
  })
})
