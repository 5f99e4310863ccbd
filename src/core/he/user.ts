/**
 * The user's side of an encrypted matvec: keys, encryption of the quantized input,
 * decryption of the results. The secret key is created here and never leaves: there is
 * no method that returns it, in any form. Galois keys (packed plans) are public key
 * material — they let a miner apply automorphisms, not decrypt — and do leave, once per
 * session and parameter set, through `galoisKeys`.
 *
 * Keys rotate with the object: a new `createHeUser` makes new secret and Galois keys (the
 * old user's results and inputs are then refused by it; miners need the new key set).
 */
import { copyOf } from '../bytes.ts'
import { HeJobError, HeParamsError, sealCall } from './errors.ts'
import { inputChunk, resultPositions, unpackResults } from './packing.ts'
import { decryptPacked, encryptPacked, makePackedKeys, type PackedKeys } from './packed-user.ts'
import { createContext, paramsKey, type HeContext } from './params.ts'
import { packedInfo, type MatvecPlan } from './plan.ts'
import { withScope, type Seal } from './seal.ts'
import { ciphertextBytes, parseCiphertext } from './seal-bytes.ts'
import { decodeResult, encodeInput, parmsFingerprint } from './wire.ts'
import { createZeroPool, type ZeroPool } from './zero-pool.ts'

/** Encrypts inputs and decrypts results; holds the secret keys. */
export interface HeUser {
  /** One wire object per input chunk of the plan (batch 1). */
  encryptInput: (plan: MatvecPlan, x: Int8Array) => Uint8Array[]
  /**
   * The exact int32 results from one wire object per output block (batch 1; packed plans:
   * the job's result objects).
   * @throws {HeWireError} when a result is malformed or for other parameters.
   */
  decryptResults: (plan: MatvecPlan, results: readonly Uint8Array[]) => Int32Array
  /**
   * The input wire objects of a job of `plan.batch` vectors: coefficient plans, batch ×
   * chunks (vector-major); packed plans, groups × chunks.
   */
  encryptBatch: (plan: MatvecPlan, xs: readonly Int8Array[]) => Uint8Array[]
  /**
   * The results of each vector. Coefficient plans: one object per block and vector,
   * block-major (as miners return them, ranges concatenated in block order); packed plans:
   * every result object of the job, in any order, each block exactly once.
   * @throws {HeWireError} for a malformed result; {HeJobError} for a wrong count or coverage.
   */
  decryptBatch: (plan: MatvecPlan, results: readonly Uint8Array[]) => Int32Array[]
  /**
   * The Galois key set of a packed plan's parameters (galois-keys.ts), for the miners of a
   * session: made once with the parameters' secret key, the same bytes until `dispose`.
   * @throws {HeParamsError} for a coefficient plan (it needs no keys).
   */
  galoisKeys: (plan: MatvecPlan) => Uint8Array
  /**
   * Do one piece of the work encryption can do ahead (an encryption of zero for a
   * coefficient input, zero-pool.ts; ~0.5–1.3 ms); true while there is more. The worker
   * calls it when it would otherwise wait.
   */
  precompute: () => boolean
  /** Delete every SEAL object (keys included). */
  dispose: () => void
}

interface KeyedContext {
  readonly ctx: HeContext
  readonly encryptor: InstanceType<Seal['Encryptor']>
  /**
   * The secret key's coefficients, as index lists of its +1 and −1 entries (SEAL's keys
   * are uniform ternary). Decryption of results is done here in plain arithmetic — it is
   * a sum of ±c1 terms — because results arrive modulus-switched to 2^b, where SEAL
   * cannot follow.
   */
  readonly plus: Int32Array
  readonly minus: Int32Array
  /** Packed presets: the decryptor and the Galois keys. */
  readonly packed?: PackedKeys
  /** Encryptions of zero made ahead for coefficient inputs (zero-pool.ts). */
  readonly zeros: ZeroPool
  delete: () => void
}

/**
 * The secret key in coefficient form, as index lists of its +1 and −1 entries. SEAL keeps
 * it in NTT form, so pass it through an NTT-form ciphertext (c0 = c1 = s; SEAL refuses a
 * zero c1) and SEAL's inverse transform, inside this worker. Exported for the noise
 * measurements (packed-noise-check.ts), which use throwaway keys only.
 */
export function ternaryKey (seal: Seal, ctx: HeContext, sk: InstanceType<Seal['SecretKey']>): { plus: Int32Array, minus: Int32Array } {
  const n = ctx.polyDegree
  const skBytes = sk.saveToArray(seal.ComprModeType.none) as Uint8Array
  const words = new Uint32Array(4 * n)
  const sNtt = new Uint32Array(copyOf(skBytes, 88, 88 + 8 * n).buffer)
  words.set(sNtt)
  words.set(sNtt, 2 * n)
  sNtt.fill(0)
  skBytes.fill(0)
  const coeffs = withScope(scope => {
    const ct = scope.own(new seal.Ciphertext())
    ct.loadFromArray(ctx.context, ciphertextBytes({ parmsId: ctx.parmsId, isNtt: true, size: 2, polyDegree: n, limbs: 1, words }))
    ctx.evaluator.cipherTransformFromNttInplace(ct)
    return parseCiphertext(ct.saveToArray(seal.ComprModeType.none) as Uint8Array).words
  })
  words.fill(0)
  const q = ctx.primes[0]
  const qm1Hi = Number((q - 1n) >> 32n)
  const qm1Lo = Number((q - 1n) & 0xffffffffn)
  const plus: number[] = []
  const minus: number[] = []
  for (let i = 0; i < n; i++) {
    const lo = coeffs[2 * i]
    const hi = coeffs[2 * i + 1]
    if (hi === 0 && lo === 1) plus.push(i)
    else if (hi === qm1Hi && lo === qm1Lo) minus.push(i)
    else if (hi !== 0 || lo !== 0) throw new HeParamsError('the SEAL secret key is not ternary')
  }
  coeffs.fill(0)
  return { plus: Int32Array.from(plus), minus: Int32Array.from(minus) }
}

function keyedContext (seal: Seal, plan: MatvecPlan): KeyedContext {
  const ctx = createContext(seal, plan.params)
  return sealCall('generate keys', () => {
    const keygen = new seal.KeyGenerator(ctx.context)
    const sk = keygen.secretKey()
    const pk = keygen.createPublicKey()
    const encryptor = new seal.Encryptor(ctx.context, pk, sk)
    const { plus, minus } = ternaryKey(seal, ctx, sk)
    const packed = ctx.specialPrime === undefined ? undefined : makePackedKeys(seal, ctx, keygen, sk)
    pk.delete()
    sk.delete()
    keygen.delete()
    const zeros = createZeroPool(ctx, encryptor)
    return {
      ctx,
      encryptor,
      plus,
      minus,
      ...(packed === undefined ? {} : { packed }),
      zeros,
      delete () {
        zeros.clear()
        encryptor.delete()
        packed?.decryptor.delete()
        plus.fill(0)
        minus.fill(0)
        ctx.delete()
      }
    }
  })
}

/**
 * Decrypt the result coefficients of one block, in the modulus 2^b the miner switched to:
 * m_p = round((c0_p + (c1·s)_p mod 2^b) · t / 2^b) mod t, where (c1·s)_p is a negacyclic
 * convolution — with a ternary s, a sum of ± c1 terms. Every partial sum stays below
 * N·2^b ≤ 2^53, so float64 is exact.
 */
function decryptPositions (kc: KeyedContext, n: number, bits: number, plainBits: number, c1: Uint32Array, c0: Uint32Array, positions: readonly number[], out: Uint32Array): void {
  // ext[m + N] = c1_m for m ≥ 0 and −c1_(m+N) for m < 0 (the negacyclic wrap)
  const ext = new Float64Array(2 * n)
  for (let i = 0; i < n; i++) {
    const v = c1[2 * i + 1] * 4294967296 + c1[2 * i]
    ext[n + i] = v
    ext[i] = -v
  }
  const mod = 2 ** bits
  const down = 2 ** (bits - plainBits)
  const t = 2 ** plainBits
  const { plus, minus } = kc
  positions.forEach((p, r) => {
    let acc = c0[2 * r + 1] * 4294967296 + c0[2 * r]
    const base = p + n
    for (let i = 0; i < plus.length; i++) acc += ext[base - plus[i]]
    for (let i = 0; i < minus.length; i++) acc -= ext[base - minus[i]]
    acc -= Math.floor(acc / mod) * mod
    let m = Math.round(acc / down)
    if (m >= t) m -= t
    out[p] = m
  })
}

/** Create a user: fresh keys per parameter set, generated on first use. */
export function createHeUser (seal: Seal): HeUser {
  const contexts = new Map<string, KeyedContext>()
  const get = (plan: MatvecPlan): KeyedContext => {
    const key = paramsKey(plan.params)
    let kc = contexts.get(key)
    if (kc === undefined) {
      kc = keyedContext(seal, plan)
      contexts.set(key, kc)
    }
    return kc
  }
  const packedKeys = (plan: MatvecPlan, kc: KeyedContext): PackedKeys => {
    if (kc.packed === undefined) throw new HeParamsError(`plan ${paramsKey(plan.params)} is packed but its preset has no key switching`)
    return kc.packed
  }
  const encryptCoeff = (plan: MatvecPlan, x: Int8Array): Uint8Array[] => {
    if (x.length !== plan.dIn) throw new HeJobError(`input has ${x.length} values, the plan expects ${plan.dIn}`)
    const kc = get(plan)
    const { ctx } = kc
    const n = ctx.polyDegree
    const fingerprint = parmsFingerprint(ctx.parmsId)
    const s = plan.split
    const out: Uint8Array[] = []
    // each chunk's inputs added to a zero made ahead, where packInput puts them
    for (let c = 0; c < s.chunks; c++) {
      const { from, count } = inputChunk(s, c)
      out.push(encodeInput(kc.zeros.encrypt(x, from, count), n, ctx.primeBits[0], fingerprint))
    }
    return out
  }
  // Coefficient results, block-major then vector: result (b, v) at b·batch + v.
  const decryptCoeff = (plan: MatvecPlan, results: readonly Uint8Array[]): Int32Array[] => {
    const s = plan.split
    const T = plan.batch
    if (results.length !== s.blocks * T) throw new HeJobError(`${results.length} result ciphertexts, the plan has ${s.blocks} blocks${T > 1 ? ` × ${T} vectors` : ''}`)
    const kc = get(plan)
    const { ctx } = kc
    const n = ctx.polyDegree
    const fingerprint = parmsFingerprint(ctx.parmsId)
    const ys = Array.from({ length: T }, () => new Int32Array(plan.dOut))
    const coeffs = new Uint32Array(n)
    for (let b = 0; b < s.blocks; b++) {
      const pos = resultPositions(s, b)
      for (let v = 0; v < T; v++) {
        const r = decodeResult(results[b * T + v], { polyDegree: n, fingerprint, bits: plan.resultBits, rows: pos.length, stride: s.nI })
        decryptPositions(kc, n, plan.resultBits, plan.params.plainBits, r.c1, r.c0, pos, coeffs)
        unpackResults(s, coeffs, b, ctx.plainModulus, ys[v])
      }
    }
    return ys
  }
  const single = (plan: MatvecPlan, what: string): void => {
    if (plan.batch !== 1) throw new HeJobError(`${what} takes one vector; the plan's batch is ${plan.batch} (use ${what === 'encryptInput' ? 'encryptBatch' : 'decryptBatch'})`)
  }
  const encryptBatch = (plan: MatvecPlan, xs: readonly Int8Array[]): Uint8Array[] => {
    if (xs.length !== plan.batch) throw new HeJobError(`${xs.length} input vectors, the plan's batch is ${plan.batch}`)
    if (plan.scheme === 'packed') {
      const kc = get(plan)
      const L = packedInfo(plan).layout
      kc.zeros.want(2 * L.groups * L.chunks)
      return encryptPacked(kc.ctx, kc.zeros, packedKeys(plan, kc), plan, xs)
    }
    // keep zeros ready for the next job like this one (made while its result is awaited)
    get(plan).zeros.want(2 * plan.split.chunks * xs.length)
    return xs.flatMap(x => encryptCoeff(plan, x))
  }
  const decryptBatch = (plan: MatvecPlan, results: readonly Uint8Array[]): Int32Array[] => {
    if (plan.scheme === 'packed') {
      const kc = get(plan)
      return decryptPacked(seal, kc.ctx, packedKeys(plan, kc), plan, results)
    }
    return decryptCoeff(plan, results)
  }
  return {
    encryptInput (plan, x) {
      single(plan, 'encryptInput')
      return encryptBatch(plan, [x])
    },

    decryptResults (plan, results) {
      single(plan, 'decryptResults')
      return decryptBatch(plan, results)[0]
    },

    encryptBatch,
    decryptBatch,

    galoisKeys (plan) {
      if (plan.scheme !== 'packed') throw new HeParamsError('a coefficient plan needs no Galois keys')
      const kc = get(plan)
      return packedKeys(plan, kc).galois.slice()
    },

    precompute () {
      const all = [...contexts.values()]
      all.find(kc => kc.zeros.short)?.zeros.fill()
      return all.some(kc => kc.zeros.short)
    },

    dispose () {
      for (const kc of contexts.values()) kc.delete()
      contexts.clear()
    }
  }
}
