/**
 * The user's side of the packed scheme: Galois keys, encryption of a job's input vectors
 * into dense ciphertexts, decryption of packed results. Runs inside the user's HE object
 * (user.ts), which owns the secret key; nothing here returns it.
 */
import { unpackScaled } from './bitpack.ts'
import { HeJobError, sealCall } from './errors.ts'
import { encodeGaloisKeys, keySetFromSeal } from './galois-keys.ts'
import { keySetElements, sealStep } from './galois.ts'
import { forEachPackedInput, outputPositions, type OutputPositions, type PackedLayout } from './packed-layout.ts'
import { encodePackedInput, readPackedResult, type PackedResultView } from './packed-wire.ts'
import type { HeContext } from './params.ts'
import { packedInfo, type MatvecPlan } from './plan.ts'
import { withScope, type Seal } from './seal.ts'
import { ciphertextBytes, CT_DATA_OFFSET, plaintextCoefficients } from './seal-bytes.ts'
import { parmsFingerprint } from './wire.ts'
import type { ZeroPool } from './zero-pool.ts'

/**
 * A packed result scaled back from its widths to q: SEAL ciphertext words (c0 at the useful
 * coefficients, 0 elsewhere; c1 whole) and the results those c0 coefficients are
 * ({@link outputPositions}: position, vector, row). Writes into `words` (4·N, zeroed here)
 * when given, so a job's results can share one buffer.
 */
export function rescaleResult (r: PackedResultView, L: PackedLayout, q: number, words = new Uint32Array(4 * L.polyDegree)): { words: Uint32Array, at: OutputPositions } {
  const n = L.polyDegree
  words.fill(0, 0, 2 * n)
  const c1 = words.subarray(2 * n)
  unpackScaled(r.bytes, r.c1Offset, n, r.c1Bits, q / 2 ** r.c1Bits, q, c1)
  const at = outputPositions(L, r.first, r.end, r.zeros)
  unpackScaled(r.bytes, r.c0Offset, r.count, r.c0Bits, q / 2 ** r.c0Bits, q, words, at.position)
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
export function encryptPacked (ctx: HeContext, zeros: ZeroPool, keys: PackedKeys, plan: MatvecPlan, xs: readonly Int8Array[]): Uint8Array[] {
  const L = packedInfo(plan).layout
  if (xs.length !== plan.batch) throw new HeJobError(`${xs.length} input vectors, the plan's batch is ${plan.batch}`)
  for (const x of xs) if (x.length !== plan.dIn) throw new HeJobError(`input has ${x.length} values, the plan expects ${plan.dIn}`)
  const n = ctx.polyDegree
  const fingerprint = parmsFingerprint(ctx.parmsId)
  const out: Uint8Array[] = []
  for (let g = 0; g < L.groups; g++) {
    for (let c = 0; c < L.chunks; c++) {
      const z = zeros.take() // made ahead; the vectors added where the layout puts them
      forEachPackedInput(L, xs, g, c, (x, from, count, at) => { zeros.add(z, x, from, count, at) })
      out.push(encodePackedInput({ keyId: keys.keyId, c0: z.c0, seedBlob: z.seedBlob }, n, ctx.primeBits[0], fingerprint))
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
  const decoded = results.map(r => readPackedResult(r, expect))
  const covered = new Uint8Array(L.blocks)
  for (const r of decoded) for (let b = r.first; b < r.end; b++) covered[b]++
  const bad = covered.findIndex(c => c !== 1)
  if (bad >= 0) throw new HeJobError(`the results cover block ${bad} ${covered[bad]} times; every block of the plan's ${L.blocks} must come exactly once`)
  const ys = Array.from({ length: plan.batch }, () => new Int32Array(plan.dOut))
  const words = new Uint32Array(4 * n)
  const ctBytes = ciphertextBytes({ parmsId: ctx.parmsId, isNtt: false, size: 2, polyDegree: n, limbs: 1, words })
  for (const r of decoded) {
    if (r.count === 0) continue // every block of this part is zero
    const { at } = rescaleResult(r, L, q, words)
    ctBytes.set(new Uint8Array(words.buffer), CT_DATA_OFFSET)
    const m = withScope(scope => sealCall('decrypt a packed result', () => {
      const ct = scope.own(new seal.Ciphertext())
      ct.loadFromArray(ctx.context, ctBytes)
      const pt = scope.own(new seal.Plaintext())
      keys.decryptor.decrypt(ct, pt)
      return plaintextCoefficients(pt.saveToArray(seal.ComprModeType.none) as Uint8Array, n)
    }))
    const { position, vector, row } = at
    for (let j = 0; j < position.length; j++) {
      const v = m[position[j]]
      ys[vector[j]][row[j]] = v > t / 2 ? v - t : v
    }
    m.fill(0)
  }
  words.fill(0)
  ctBytes.fill(0)
  return ys
}
