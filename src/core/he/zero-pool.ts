/**
 * Encryption split into an offline and an online part, for every input the user encrypts
 * (coefficient inputs in user.ts, packed ones in packed-user.ts).
 *
 * A BFV symmetric encryption of m is c0 = −(a·s + e) + ⌊(q·m + ⌊(t+1)/2⌋)/t⌋, c1 = a: all
 * of the work (sampling a from a seed and e, the NTTs, a·s) is in the encryption of zero,
 * and m only adds its scaled coefficients to c0 — SEAL's own
 * `multiply_add_plain_with_scaling_variant`, done here. So the user's HE worker makes
 * encryptions of zero while it would wait anyway (a job is at the miner), and encrypting
 * an input on the critical path is an addition to its nonzero coefficients (at most n_i
 * per vector) — ~0.05 ms instead of SEAL's ~0.5–1.3 ms.
 *
 * Each zero is used once and dropped with the keys (a rotation makes a new user and new
 * pools); the ciphertexts are distributed exactly as SEAL's: same sampling, same scaling.
 */
import type { HeContext } from './params.ts'
import { withScope } from './seal.ts'
import { sealCall } from './errors.ts'
import { parseSeeded, plaintextBytes } from './seal-bytes.ts'

/** One encryption of zero: c0 (u64 words as u32 pairs, one prime) and SEAL's seed blob for c1. */
export interface SeededZero {
  readonly c0: Uint32Array
  readonly seedBlob: Uint8Array
}

/** Most encryptions of zero kept per parameter set (4096-ring ones are 32 KiB each). */
export const MAX_POOLED_ZEROS = 64

/** Encryptions of zero for one keyed context, and the scaled int8 values to add to them. */
export interface ZeroPool {
  /** One encryption of input `x[from, from + count)` at coefficients 0…count−1: a pooled zero (or a fresh one) plus the scaled values. */
  encrypt: (x: Int8Array, from: number, count: number) => SeededZero
  /** A zero to add inputs to (pooled, or made now); use it for one ciphertext only. */
  take: () => SeededZero
  /** Add `x[from, from + count)`, scaled, to `z` at coefficients at…at+count−1. */
  add: (z: SeededZero, x: Int8Array, from: number, count: number, at: number) => void
  /** Ask for at least this many pooled zeros from now on (capped at {@link MAX_POOLED_ZEROS}). */
  want: (n: number) => void
  /** Make one more zero if the pool is below what was asked for. */
  fill: () => void
  /** The pool is below what was asked for. */
  readonly short: boolean
  readonly size: number
  /** Drop every zero and the SEAL objects it holds (with the keys). */
  clear: () => void
}

type Encryptor = InstanceType<HeContext['seal']['Encryptor']>

/**
 * The pool of `ctx` under `encryptor` (the user's secret key). Needs a one-prime context
 * (coefficient inputs carry one limb) and t < 2^31.
 */
export function createZeroPool (ctx: HeContext, encryptor: Encryptor): ZeroPool {
  const seal = ctx.seal
  const n = ctx.polyDegree
  const q = ctx.primes[0]
  const t = ctx.plainModulus
  const qLo = Number(q & 0xffffffffn)
  const qHi = Number(q >> 32n)
  // ⌊(q·m + ⌊(t+1)/2⌋)/t⌋ mod q for every int8 value v (m = v mod t), as (lo, hi) words
  const scaled = new Uint32Array(512)
  for (let v = -128; v < 128; v++) {
    const m = BigInt(v < 0 ? t + v : v)
    const s = ((q * m + BigInt(Math.floor((t + 1) / 2))) / BigInt(t)) % q
    scaled[2 * (v + 128)] = Number(s & 0xffffffffn)
    scaled[2 * (v + 128) + 1] = Number(s >> 32n)
  }
  const zeros: SeededZero[] = []
  let target = 0
  // the zero plaintext every zero encrypts: loaded once, not per zero
  let zeroPt: InstanceType<HeContext['seal']['Plaintext']> | undefined
  const plainZero = (): InstanceType<HeContext['seal']['Plaintext']> => {
    if (zeroPt === undefined) {
      const pt = new seal.Plaintext()
      sealCall('load the zero plaintext', () => { pt.loadFromArray(ctx.context, plaintextBytes(new Uint32Array(n))) })
      zeroPt = pt
    }
    return zeroPt
  }
  const make = (): SeededZero => withScope(scope => sealCall('encrypt zero', () => {
    const ser = scope.own(encryptor.encryptSymmetricSerializable(plainZero()))
    const f = parseSeeded(ser.saveToArray(seal.ComprModeType.none) as Uint8Array)
    return { c0: f.c0, seedBlob: f.seedBlob }
  }))
  const take = (): SeededZero => zeros.pop() ?? make()
  const add = (z: SeededZero, x: Int8Array, from: number, count: number, at: number): void => {
    const c0 = z.c0
    for (let j = 0; j < count; j++) {
      const v = x[from + j]
      if (v === 0) continue
      const k = 2 * (v + 128)
      const p = 2 * (at + j)
      // c0_p + s mod q, in 32-bit halves (q < 2^61: every partial stays exact)
      let lo = c0[p] + scaled[k]
      let hi = c0[p + 1] + scaled[k + 1]
      if (lo >= 4294967296) { lo -= 4294967296; hi++ }
      if (hi > qHi || (hi === qHi && lo >= qLo)) {
        lo -= qLo
        hi -= qHi
        if (lo < 0) { lo += 4294967296; hi-- }
      }
      c0[p] = lo
      c0[p + 1] = hi
    }
  }
  return {
    encrypt (x, from, count) {
      const z = take()
      add(z, x, from, count, 0)
      return z
    },
    take,
    add,
    want (k) { target = Math.min(MAX_POOLED_ZEROS, Math.max(target, k)) },
    fill () {
      if (zeros.length < target) zeros.push(make())
    },
    get short () { return zeros.length < target },
    get size () { return zeros.length },
    clear () {
      for (const z of zeros) z.c0.fill(0)
      zeros.length = 0
      zeroPt?.delete()
      zeroPt = undefined
    }
  }
}
