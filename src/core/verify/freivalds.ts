/**
 * Freivalds verification of a miner's result: the user accepts y as W·x only if
 * r·y == (rᵀW)·x for a secret random r drawn once per matrix and session. A wrong y passes
 * with probability ≤ 1/p per check; the check costs O(d_in + d_out).
 *
 * Arithmetic is modulo two primes p1, p2 < 2^26 (every product < 2^52 is exact in
 * float64), with an independent r for each. A wrong y differs from W·x by e with
 * |e_i| < t ≤ 2^28 < p1·p2, so e is non-zero modulo at least one of the primes, and that
 * check catches it except with probability ≤ 1/p ≈ 2^-26 — per job, with fresh jobs every
 * token. Reference: R. Freivalds, "Probabilistic machines can use less running time",
 * IFIP 1977.
 */
import { CerberusError } from '../errors.ts'

/** The two moduli: the largest primes below 2^26 (checked in the tests). */
export const FREIVALDS_PRIMES = [67108859, 67108837] as const

/** The secret of one matrix: r (one per prime) and v = rᵀW (mod p). Never sent anywhere. */
export interface FreivaldsKey {
  readonly rows: number
  readonly cols: number
  readonly r: readonly [Float64Array, Float64Array]
  readonly v: readonly [Float64Array, Float64Array]
}

/** A miner's result failed verification. Nothing about it goes back to that miner. */
export class VerificationError extends CerberusError {
  /** Which job and which miner, for the scheduler (re-run elsewhere, drop the miner). */
  readonly job: string
  readonly miner: string
  /** 'freivalds': decrypted fine but r·y ≠ rᵀW·x; 'malformed': the result could not even be decoded. */
  readonly reason: 'freivalds' | 'malformed'
  constructor (job: string, miner: string, reason: 'freivalds' | 'malformed' = 'freivalds', cause?: unknown) {
    super('VERIFICATION_FAILED', reason === 'freivalds'
      ? `the result of job ${job} from miner ${miner} failed verification (r·y ≠ rᵀW·x): rejected`
      : `the result of job ${job} from miner ${miner} is malformed (${(cause as Error)?.message ?? 'undecodable'}): rejected`, { cause })
    this.job = job
    this.miner = miner
    this.reason = reason
  }
}

/** Uniform random integers in [0, bound) from a source of random 32-bit words. */
function randomBelow (bound: number, n: number, randomWords: (n: number) => Uint32Array): Float64Array {
  const out = new Float64Array(n)
  const limit = Math.floor(4294967296 / bound) * bound // rejection sampling: no modulo bias
  let filled = 0
  while (filled < n) {
    for (const w of randomWords(n - filled)) {
      if (w < limit && filled < n) out[filled++] = w % bound
    }
  }
  return out
}

/** Cryptographic random words (the platform's `crypto.getRandomValues`). */
export function cryptoWords (n: number): Uint32Array {
  const out = new Uint32Array(n)
  for (let i = 0; i < n; i += 16384) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 16384)))
  return out
}

/**
 * Draw the secret for a matrix q (rows × cols, int8) and precompute v = rᵀq mod p.
 * Cost O(rows·cols), once per matrix and session.
 */
export function freivaldsKey (q: Int8Array, rows: number, cols: number, randomWords: (n: number) => Uint32Array = cryptoWords): FreivaldsKey {
  const r = FREIVALDS_PRIMES.map(p => randomBelow(p, rows, randomWords)) as [Float64Array, Float64Array]
  const v = FREIVALDS_PRIMES.map((p, k) => {
    const acc = new Float64Array(cols)
    const rk = r[k]
    for (let i = 0; i < rows; i++) {
      const ri = rk[i]
      const base = i * cols
      // ri < 2^26, |q| ≤ 127: each term < 2^33; reduce every row keeps acc < 2^34
      for (let j = 0; j < cols; j++) acc[j] += ri * q[base + j]
      if ((i & 511) === 511) for (let j = 0; j < cols; j++) acc[j] %= p
    }
    for (let j = 0; j < cols; j++) acc[j] = ((acc[j] % p) + p) % p
    return acc
  }) as [Float64Array, Float64Array]
  return { rows, cols, r, v }
}

/** r·y == v·x modulo both primes? O(rows + cols). */
export function freivaldsCheck (key: FreivaldsKey, x: Int8Array, y: Int32Array): boolean {
  if (x.length !== key.cols || y.length !== key.rows) return false
  for (let k = 0; k < 2; k++) {
    const p = FREIVALDS_PRIMES[k]
    const r = key.r[k]
    const v = key.v[k]
    let ry = 0
    for (let i = 0; i < y.length; i++) ry = (ry + r[i] * (((y[i] % p) + p) % p)) % p
    let vx = 0
    for (let j = 0; j < x.length; j++) vx = (vx + v[j] * (((x[j] % p) + p) % p)) % p
    if (ry !== vx) return false
  }
  return true
}
