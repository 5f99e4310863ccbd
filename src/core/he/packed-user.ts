/**
 * The user's side of the packed scheme: Galois keys, encryption of a job's input vectors
 * into dense ciphertexts, decryption of packed results. Runs inside the user's HE object
 * (user.ts), which owns the secret key; nothing here returns it.
 */
import { HeJobError, sealCall } from './errors.ts'
import { encodeGaloisKeys, keySetFromSeal } from './galois-keys.ts'
import { keySetElements, sealStep } from './galois.ts'
import { forEachOutput, packPackedInput, type PackedLayout } from './packed-layout.ts'
import { decodePackedResult, encodePackedInput, type PackedResult } from './packed-wire.ts'
import type { HeContext } from './params.ts'
import { packedInfo, type MatvecPlan } from './plan.ts'
import { withScope, type Seal } from './seal.ts'
import { ciphertextBytes, parseSeeded, plaintextBytes, plaintextCoefficients } from './seal-bytes.ts'
import { parmsFingerprint } from './wire.ts'

/**
 * A packed result scaled back from its widths to q: SEAL ciphertext words (c0 at the useful
 * coefficients, 0 elsewhere; c1 whole) and, per c0 coefficient, [position, vector, row].
 */
export function rescaleResult (r: PackedResult, L: PackedLayout, q: number): { words: Uint32Array, at: Array<[number, number, number]> } {
  const n = L.polyDegree
  const two32 = 4294967296
  const up = (src: Uint32Array, i: number, bits: number, dst: Uint32Array, j: number): void => {
    let v = Math.round((src[2 * i + 1] * two32 + src[2 * i]) * (q / 2 ** bits))
    if (v >= q) v -= q
    const hi = Math.floor(v / two32)
    dst[2 * j] = v - hi * two32
    dst[2 * j + 1] = hi
  }
  const words = new Uint32Array(4 * n)
  for (let i = 0; i < n; i++) up(r.c1, i, r.c1Bits, words, n + i)
  const at: Array<[number, number, number]> = []
  for (let b = r.first; b < r.end; b++) if (!r.zeros.includes(b)) forEachOutput(L, b, (pos, vec, row) => { at.push([pos, vec, row]) })
  at.forEach(([pos], j) => { up(r.c0, j, r.c0Bits, words, pos) })
  return { words, at }
}

/** What the user holds per packed parameter set (besides the encryptor of user.ts). */
export interface PackedKeys {
  readonly decryptor: InstanceType<Seal['Decryptor']>
  /** The Galois key set on the wire: made once, the same until the user is disposed. */
  readonly galois: Uint8Array
  readonly keyId: bigint
}

/** Make the Galois keys of a packed context (SEAL's seeded keys by rotation steps). */
export function makePackedKeys (seal: Seal, ctx: HeContext, keygen: InstanceType<Seal['KeyGenerator']>, sk: InstanceType<Seal['SecretKey']>): PackedKeys {
  if (ctx.specialPrime === undefined) throw new HeJobError(`preset ${ctx.params.preset.name} has no key switching`)
  const n = ctx.polyDegree
  const steps = Int32Array.from(keySetElements(n), g => sealStep(n, g))
  const primes = { polyDegree: n, fingerprint: parmsFingerprint(ctx.parmsId), dataPrime: ctx.primes[0], specialPrime: ctx.specialPrime }
  const set = withScope(scope => sealCall('make Galois keys', () => {
    const ser = scope.own(keygen.createGaloisKeysSerializableWithSteps(steps))
    return keySetFromSeal(ser.saveToArray(seal.ComprModeType.none) as Uint8Array, primes)
  }))
  const decryptor = sealCall('make a decryptor', () => new seal.Decryptor(ctx.context, sk))
  return { decryptor, galois: encodeGaloisKeys(set, primes), keyId: set.id }
}

/** The job's input ciphertexts: groups × chunks, group-major. */
export function encryptPacked (seal: Seal, ctx: HeContext, encryptor: InstanceType<Seal['Encryptor']>, keys: PackedKeys, plan: MatvecPlan, xs: readonly Int8Array[]): Uint8Array[] {
  const L = packedInfo(plan).layout
  if (xs.length !== plan.batch) throw new HeJobError(`${xs.length} input vectors, the plan's batch is ${plan.batch}`)
  for (const x of xs) if (x.length !== plan.dIn) throw new HeJobError(`input has ${x.length} values, the plan expects ${plan.dIn}`)
  const n = ctx.polyDegree
  const coeffs = new Uint32Array(n)
  const fingerprint = parmsFingerprint(ctx.parmsId)
  const out: Uint8Array[] = []
  for (let g = 0; g < L.groups; g++) {
    for (let c = 0; c < L.chunks; c++) {
      packPackedInput(L, xs, g, c, ctx.plainModulus, coeffs)
      const seeded = withScope(scope => sealCall('encrypt a packed input', () => {
        const pt = scope.own(new seal.Plaintext())
        pt.loadFromArray(ctx.context, plaintextBytes(coeffs))
        const ser = scope.own(encryptor.encryptSymmetricSerializable(pt))
        return ser.saveToArray(seal.ComprModeType.none) as Uint8Array
      }))
      const f = parseSeeded(seeded)
      out.push(encodePackedInput({ keyId: keys.keyId, c0: f.c0, seedBlob: f.seedBlob }, n, ctx.primeBits[0], fingerprint))
    }
  }
  return out
}

/**
 * The job's results from its packed result objects — every block exactly once, in any
 * order (one per tree, or per tree and block range when a miner pool split the job).
 * Each is scaled back from its widths to q and decrypted by SEAL at the useful coefficients.
 * @throws {HeWireError} for a malformed result; {HeJobError} when the results do not cover
 * the plan's blocks exactly once.
 */
export function decryptPacked (seal: Seal, ctx: HeContext, keys: PackedKeys, plan: MatvecPlan, results: readonly Uint8Array[]): Int32Array[] {
  const info = packedInfo(plan)
  const L = info.layout
  const n = ctx.polyDegree
  const t = ctx.plainModulus
  const q = ctx.primesDouble[0]
  const expect = { polyDegree: n, fingerprint: parmsFingerprint(ctx.parmsId), c0Bits: info.widths.c0Bits, c1Bits: info.widths.c1Bits, layout: L }
  const decoded = results.map(r => decodePackedResult(r, expect))
  const covered = new Uint8Array(L.blocks)
  for (const r of decoded) for (let b = r.first; b < r.end; b++) covered[b]++
  const bad = covered.findIndex(c => c !== 1)
  if (bad >= 0) throw new HeJobError(`the results cover block ${bad} ${covered[bad]} times; every block of the plan's ${L.blocks} must come exactly once`)
  const ys = Array.from({ length: plan.batch }, () => new Int32Array(plan.dOut))
  for (const r of decoded) {
    if (r.c0.length === 0) continue // every block of this part is zero
    const { words, at } = rescaleResult(r, L, q)
    const m = withScope(scope => sealCall('decrypt a packed result', () => {
      const ct = scope.own(new seal.Ciphertext())
      ct.loadFromArray(ctx.context, ciphertextBytes({ parmsId: ctx.parmsId, isNtt: false, size: 2, polyDegree: n, limbs: 1, words }))
      const pt = scope.own(new seal.Plaintext())
      keys.decryptor.decrypt(ct, pt)
      return plaintextCoefficients(pt.saveToArray(seal.ComprModeType.none) as Uint8Array, n)
    }))
    words.fill(0)
    for (const [pos, vec, row] of at) {
      const v = m[pos]
      ys[vec][row] = v > t / 2 ? v - t : v
    }
    m.fill(0)
  }
  return ys
}
