/**
 * Ring automorphisms τ_g: X ↦ X^g of Z[X]/(X^N + 1), g odd — the only non-linear-looking
 * step of the packed scheme, and in fact linear: τ_g(Σ a_i X^i) = Σ ±a_i X^(g·i mod N).
 *
 * The packed scheme uses one automorphism per packing level ℓ: τ_(2^ℓ+1), which fixes every
 * multiple of N/2^(ℓ−1) and negates the odd multiples of N/2^ℓ (Chen–Dai–Kim–Song,
 * "Efficient homomorphic conversion between (ring) LWE ciphertexts", ACNS 2021 — the
 * PackRLWEs merge). For ℓ ≥ 3 the element 2^ℓ+1 is a power of 3 mod 2N, so SEAL's
 * rotation-step Galois keys reach it directly; for ℓ = 2 it is not (5 ≡ 5 mod 8, powers of 3
 * are ≡ 1 or 3), so τ_5 is applied as τ_(2N−1) ∘ τ_(2N−5): two key switches, both by steps
 * (2N−1 is SEAL's step 0, 2N−5 ≡ 3 mod 8 is a power of 3).
 */
import { HeParamsError } from './errors.ts'

/** The automorphism element of packing level ℓ (1 ≤ ℓ ≤ log2 N): 2^ℓ + 1 mod 2N. */
export function levelElement (polyDegree: number, level: number): number {
  return ((2 ** level) + 1) % (2 * polyDegree)
}

/**
 * The SEAL Galois elements to apply, in order, for τ at packing level ℓ: one for ℓ ≥ 3,
 * two for ℓ = 2 (see the file comment).
 * @throws {HeParamsError} for a level outside [2, log2 N].
 */
export function levelSealElements (polyDegree: number, level: number): readonly number[] {
  if (!Number.isInteger(level) || level < 2 || 2 ** level > polyDegree) throw new HeParamsError(`packing level ${level} is outside [2, log2 ${polyDegree}]`)
  return level === 2 ? [2 * polyDegree - 5, 2 * polyDegree - 1] : [levelElement(polyDegree, level)]
}

/**
 * Every Galois element a packed plan on ring N may use, ascending: 2^ℓ+1 for ℓ = 3…log2 N,
 * then 2N−5 and 2N−1 (level 2). One key set serves every packed plan on that ring, so a
 * session sends its keys once per parameter set: log2 N keys (12 at N = 4096).
 */
export function keySetElements (polyDegree: number): readonly number[] {
  const out: number[] = []
  for (let l = 3; 2 ** l <= polyDegree; l++) out.push(levelElement(polyDegree, l))
  out.push(2 * polyDegree - 5, 2 * polyDegree - 1)
  return out
}

/**
 * SEAL's rotation step for element g: s with 3^s ≡ g (mod 2N), 0 < s < N/2, or 0 for
 * g = 2N − 1 (SEAL's column swap). `createGaloisKeysSerializableWithSteps` takes these.
 * @throws {HeParamsError} when g is not reachable by a step.
 */
export function sealStep (polyDegree: number, g: number): number {
  const m = 2 * polyDegree
  if (g === m - 1) return 0
  let e = 1
  for (let s = 0; s < polyDegree / 2; s++) {
    if (e === g) return s
    e = (e * 3) % m
  }
  throw new HeParamsError(`Galois element ${g} is not a power of 3 mod ${m}: no SEAL step reaches it`)
}

/** τ_g as a signed permutation: coefficient i moves to index[i], negated where negate[i]. */
export interface Automorphism {
  readonly g: number
  readonly index: Int32Array
  readonly negate: Uint8Array
  /** g·i mod 2N: index[i] + N·negate[i], the form the inner loops use. */
  readonly dest: Int32Array
}

const cache = new Map<string, Automorphism>()

/** The signed permutation of τ_g on ring N (cached: a handful of elements per ring). */
export function automorphism (polyDegree: number, g: number): Automorphism {
  const key = `${polyDegree}/${g}`
  let a = cache.get(key)
  if (a === undefined) {
    if (g % 2 === 0) throw new HeParamsError(`Galois element ${g} must be odd`)
    const index = new Int32Array(polyDegree)
    const negate = new Uint8Array(polyDegree)
    const dest = new Int32Array(polyDegree)
    const m = 2 * polyDegree
    for (let i = 0; i < polyDegree; i++) {
      const e = (i * g) % m
      dest[i] = e
      index[i] = e >= polyDegree ? e - polyDegree : e
      negate[i] = e >= polyDegree ? 1 : 0
    }
    a = { g, index, negate, dest }
    cache.set(key, a)
  }
  return a
}

/** out += sign·τ_g(f)·X^shift (negacyclic), over centred integer coefficients. */
export function addAutomorphed (f: Float64Array | Int32Array, a: Automorphism, shift: number, out: Float64Array | Int32Array): void {
  const n = f.length
  const m = 2 * n
  const dest = a.dest
  // X^(g·i + shift) with exponents mod 2N: the upper half is the negated lower half.
  for (let i = 0; i < n; i++) {
    const v = f[i]
    if (v === 0) continue
    let e = dest[i] + shift
    if (e >= m) e -= m
    if (e >= n) out[e - n] -= v
    else out[e] += v
  }
}
