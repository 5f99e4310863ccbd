/**
 * BFV parameters as data: frozen presets, and the SEAL context built from them.
 */
import { HeParamsError, sealCall } from './errors.ts'
import type { Seal } from './seal.ts'

/** Ring and ciphertext modulus of a preset; the plaintext modulus is chosen per matrix. */
export interface RingPreset {
  /** Stable name, also used on the wire. */
  readonly name: string
  /** Polynomial degree N (ring Z[X]/(X^N + 1)); also the number of coefficient slots. */
  readonly polyDegree: number
  /** Bit sizes of the primes of the ciphertext modulus q (SEAL picks the primes). */
  readonly coeffBits: readonly number[]
  /** 'tc128' = 128-bit classical security per the HomomorphicEncryption.org tables, enforced by SEAL. */
  readonly security: 'tc128' | 'none'
}

/** Full BFV parameters: a ring preset plus the plaintext modulus. */
export interface HeParams {
  readonly preset: RingPreset
  /**
   * The coefficient scheme: t = 2^plainBits, a power of two so that centred decoding is a
   * sign extension. With {@link plainModulus} set, ⌈log2 t⌉.
   */
  readonly plainBits: number
  /**
   * The packed scheme: t itself, an odd prime ≡ 1 (mod 2N) — SEAL makes Galois keys by
   * rotation steps only for such a t ("batching" parameters); see packed-params.ts.
   */
  readonly plainModulus?: number
}

/**
 * The presets. The coefficient scheme's have one prime: it needs only ciphertext ×
 * plaintext products (no relinearization, no key switching), so there is no special prime
 * and the whole modulus is noise budget. The packed scheme's ("-ks") have two: a data prime
 * and SEAL's special prime (the last one), which only key switching uses — ciphertexts
 * carry the data prime alone.
 */
export const RING_PRESETS = Object.freeze({
  /** N = 2048, q one 54-bit prime: the largest q at 128-bit security for this N. */
  n2048: Object.freeze({ name: 'n2048', polyDegree: 2048, coeffBits: Object.freeze([54]), security: 'tc128' }),
  /** N = 4096, q one 60-bit prime (SEAL's largest prime; 128-bit allows 109 bits). */
  n4096: Object.freeze({ name: 'n4096', polyDegree: 4096, coeffBits: Object.freeze([60]), security: 'tc128' }),
  /** N = 8192, q one 60-bit prime: more slots per ciphertext for very wide layers. */
  n8192: Object.freeze({ name: 'n8192', polyDegree: 8192, coeffBits: Object.freeze([60]), security: 'tc128' }),
  /** INSECURE, tests only: N = 256 makes SEAL fast enough to test thousands of shapes. */
  testN256: Object.freeze({ name: 'insecure-n256', polyDegree: 256, coeffBits: Object.freeze([50]), security: 'none' }),
  /** INSECURE, tests only. */
  testN1024: Object.freeze({ name: 'insecure-n1024', polyDegree: 1024, coeffBits: Object.freeze([58]), security: 'none' }),
  /**
   * The packed scheme: N = 4096, q = {54-bit data prime, 55-bit special prime} = 109 bits,
   * the most the HomomorphicEncryption.org 128-bit table allows at this N (SEAL enforces it).
   * The special prime is the larger so key switching adds ~q/P·√N·σ ≈ 2^6 of noise.
   */
  n4096ks: Object.freeze({ name: 'n4096-ks', polyDegree: 4096, coeffBits: Object.freeze([54, 55]), security: 'tc128' }),
  /** INSECURE, tests only: the packed scheme on a ring small enough to test hundreds of shapes. */
  testN256ks: Object.freeze({ name: 'insecure-n256-ks', polyDegree: 256, coeffBits: Object.freeze([50, 51]), security: 'none' }),
  /** INSECURE, tests only. */
  testN1024ks: Object.freeze({ name: 'insecure-n1024-ks', polyDegree: 1024, coeffBits: Object.freeze([54, 55]), security: 'none' })
} satisfies Record<string, RingPreset>)

/** The presets the planner may choose for the packed scheme (128-bit). */
export const SECURE_PACKED_PRESETS: readonly RingPreset[] = [RING_PRESETS.n4096ks]

/** The presets the planner may choose for real (128-bit) use. */
export const SECURE_PRESETS: readonly RingPreset[] = [RING_PRESETS.n2048, RING_PRESETS.n4096, RING_PRESETS.n8192]

/** Largest total bit size of q for 128-bit security (SEAL's CoeffModulus::MaxBitCount, tc128). */
const MAX_Q_BITS_128: Readonly<Record<number, number>> = { 1024: 27, 2048: 54, 4096: 109, 8192: 218, 16384: 438, 32768: 881 }

/** Largest plaintext modulus SEAL accepts (a 60-bit Modulus). */
const MAX_PLAIN_BITS = 60

/** Look a preset up by its wire name. */
export function presetByName (name: string): RingPreset | undefined {
  return Object.values(RING_PRESETS).find(p => p.name === name)
}

/**
 * Check parameters before SEAL sees them.
 * @throws {HeParamsError} with the reason.
 */
export function validateParams (p: HeParams): void {
  const { polyDegree: n, coeffBits, security } = p.preset
  if (!Number.isInteger(n) || n < 256 || n > 32768 || (n & (n - 1)) !== 0) throw new HeParamsError(`polynomial degree ${n} is not a power of two in [256, 32768]`)
  if (coeffBits.length === 0 || coeffBits.some(b => !Number.isInteger(b) || b < 20 || b > 60)) throw new HeParamsError(`coefficient modulus bits ${coeffBits.join(',')} must be 1+ primes of 20–60 bits`)
  const qBits = coeffBits.reduce((a, b) => a + b, 0)
  if (security === 'tc128' && qBits > (MAX_Q_BITS_128[n] ?? 0)) throw new HeParamsError(`q of ${qBits} bits is not 128-bit secure for N = ${n} (at most ${MAX_Q_BITS_128[n]})`)
  if (!Number.isInteger(p.plainBits) || p.plainBits < 2 || p.plainBits > MAX_PLAIN_BITS) throw new HeParamsError(`plaintext modulus 2^${p.plainBits} is outside 2^2…2^${MAX_PLAIN_BITS}`)
  if (p.plainBits >= coeffBits[0] - 2) throw new HeParamsError(`plaintext modulus 2^${p.plainBits} leaves no noise budget under a ${coeffBits[0]}-bit q`)
  if (p.plainModulus !== undefined) {
    const t = p.plainModulus
    if (coeffBits.length < 2) throw new HeParamsError(`a prime plaintext modulus needs a key-switching preset (two primes), not ${p.preset.name}`)
    if (!Number.isSafeInteger(t) || t < 3 || t > 2 ** 31 || Math.ceil(Math.log2(t)) !== p.plainBits) throw new HeParamsError(`plaintext modulus ${t} does not match 2^${p.plainBits}`)
    if (t % (2 * n) !== 1 || !isPrime(t)) throw new HeParamsError(`plaintext modulus ${t} is not a prime ≡ 1 (mod ${2 * n})`)
  }
}

/** Trial division: t < 2^31, so at most ~23,000 odd divisors (well under a millisecond). */
export function isPrime (v: number): boolean {
  if (!Number.isSafeInteger(v) || v < 2) return false
  if (v % 2 === 0) return v === 2
  for (let d = 3; d * d <= v; d += 2) if (v % d === 0) return false
  return true
}

/** The plaintext modulus t of parameters. */
export function plainModulusOf (p: HeParams): number {
  return p.plainModulus ?? 2 ** p.plainBits
}

/** A readable, stable identifier, e.g. "n2048/q54/t25", or "n4096-ks/q54.55/t=25231361" for a prime t. */
export function paramsKey (p: HeParams): string {
  return `${p.preset.name}/q${p.preset.coeffBits.join('.')}/t${p.plainModulus === undefined ? p.plainBits : `=${p.plainModulus}`}`
}

/**
 * A SEAL context with what both sides derive from it. Owns its SEAL objects: call
 * `delete()` when done.
 */
export interface HeContext {
  readonly seal: Seal
  readonly params: HeParams
  readonly key: string
  readonly polyDegree: number
  /** The ciphertext modulus primes, as BigInt and as (inexact for > 2^53) doubles. */
  readonly primes: readonly bigint[]
  readonly primesDouble: readonly number[]
  /** Bit length of each prime. */
  readonly primeBits: readonly number[]
  /** t: 2^plainBits, or the prime of a packed plan. */
  readonly plainModulus: number
  /** SEAL's special prime (the key level's last prime), for packed presets; undefined otherwise. */
  readonly specialPrime?: bigint
  /** SEAL's parms_id of the key level (where Galois keys live), for packed presets. */
  readonly keyParmsId?: BigUint64Array
  /** SEAL's parms_id of the data level (4 × u64), which every ciphertext carries. */
  readonly parmsId: BigUint64Array
  readonly context: InstanceType<Seal['SEALContext']>
  readonly evaluator: InstanceType<Seal['Evaluator']>
  delete: () => void
}

/**
 * Build the SEAL context for `params`.
 * @throws {HeParamsError} when the parameters are invalid or SEAL does not accept them.
 */
export function createContext (seal: Seal, params: HeParams): HeContext {
  validateParams(params)
  const n = params.preset.polyDegree
  const parms = sealCall('create encryption parameters', () => {
    const e = new seal.EncryptionParameters(seal.SchemeType.bfv)
    e.setPolyModulusDegree(n)
    const cm = seal.CoeffModulus.Create(n, Int32Array.from(params.preset.coeffBits))
    e.setCoeffModulus(cm)
    cm.delete()
    const t = new seal.Modulus(BigInt(plainModulusOf(params)))
    e.setPlainModulus(t)
    t.delete()
    return e
  })
  const level = params.preset.security === 'tc128' ? seal.SecLevelType.tc128 : seal.SecLevelType.none
  const context = sealCall('create a SEAL context', () => new seal.SEALContext(parms, true, level))
  if (!context.parametersSet()) {
    context.delete()
    parms.delete()
    throw new HeParamsError(`SEAL rejects ${paramsKey(params)} at security ${params.preset.security}`)
  }
  const evaluator = new seal.Evaluator(context)
  const data = context.firstContextData()
  const cm = data.parms().coeffModulus()
  const primes: bigint[] = []
  for (let i = 0; i < cm.size(); i++) {
    const m = cm.get(i)
    if (m !== undefined) {
      primes.push(m.value())
      m.delete()
    }
  }
  cm.delete()
  const pid = context.firstParmsId()
  const parmsId = BigUint64Array.from(pid.values() as Iterable<bigint>)
  pid.delete()
  data.delete()
  let specialPrime: bigint | undefined
  let keyParmsId: BigUint64Array | undefined
  if (params.preset.coeffBits.length > 1) {
    const kpid = context.keyParmsId()
    keyParmsId = BigUint64Array.from(kpid.values() as Iterable<bigint>)
    kpid.delete()
    const key = context.keyContextData()
    const km = key.parms().coeffModulus()
    const last = km.get(km.size() - 1)
    specialPrime = last?.value()
    last?.delete()
    km.delete()
    key.delete()
  }
  parms.delete()
  return {
    seal,
    params,
    key: paramsKey(params),
    polyDegree: n,
    primes,
    primesDouble: primes.map(Number),
    primeBits: primes.map(p => p.toString(2).length),
    plainModulus: plainModulusOf(params),
    ...(specialPrime === undefined ? {} : { specialPrime }),
    ...(keyParmsId === undefined ? {} : { keyParmsId }),
    parmsId,
    context,
    evaluator,
    delete () {
      evaluator.delete()
      context.delete()
    }
  }
}
