/**
 * Exact reduction mod q in int32 graph ops, for any value held as columns of limbs:
 * V = Σ_j column_j · 2^(11·pos_j) with non-negative int32 columns (the MAC's pair sums, a
 * modular matrix product's, …), to the canonical residue V mod q as m 11-bit digits, and
 * between those digits and the (lo, hi) words of a u64.
 *
 * 1. Fold: split each column into 11-bit digits (exact Div/Mul/Sub) and Gemm them with
 *    the limbs of 2^(11·position) mod q: E_u, u < m, with Σ E_u·2^(11u) ≡ V (mod q) and
 *    E_u < 2^28. Repeat while step 2's error bound is not met (once, for 34–61 bits).
 * 2. Estimate the quotient in float32: Q̂ = trunc(Σ E_u·fl(2^(11u)/q) − ½). With the
 *    relative error γ_(m+3) ≤ (m+3)·2^−23 of m + 3 float roundings (each taken as a whole
 *    ulp) and V/q < 2^18, |error| < ½, so Q̂ is trunc of a value in (V/q − 1, V/q): Q̂ ∈
 *    {Q − 1, Q} for Q = ⌊V/q⌋ (trunc = floor there, and 0 = Q when the value is in (−1, 0)),
 *    and r = V − Q̂·q ∈ [0, 2q).
 * 3. Form r and r − q exactly as signed limbs (one Gemm), make both canonical with a ripple
 *    of floor divisions (the top limb keeps the sign), and keep r − q where it is ≥ 0.
 */
import { GpuGraphError } from './errors.ts'
import type { ExactOps, IntTensor } from './exact-int.ts'
import { LIMB_BASE, LIMB_BITS, limbsOf, primeBits } from './limbs.ts'
import type { OnnxGraph } from './onnx-graph.ts'

/** Split-and-fold rounds tried before giving up on the float estimate's bound (one suffices for 34–61-bit primes). */
export const MAX_FOLD_ROUNDS = 4
/** Unit roundoff of float32 taken as a whole ulp, so conversions need not round to nearest. */
const FLOAT32_ULP = 2 ** -23

/** A value Σ_j column_j · 2^(11·pos_j): a tensor (rows, columns) and each column's position. */
export interface LimbVector {
  readonly v: IntTensor
  readonly pos: readonly number[]
}

/** Split every column into 11-bit digits, as many as the widest column needs. */
function splitDigits (ops: ExactOps, lv: LimbVector): LimbVector {
  const widest = lv.v.cols.reduce((a, c) => (c[1] > a ? c[1] : a), 0n)
  const levels = Math.max(1, Math.ceil(widest.toString(2).length / LIMB_BITS))
  const parts: IntTensor[] = []
  const pos: number[] = []
  let rest = lv.v
  for (let i = 0; i < levels; i++) {
    if (i < levels - 1) {
      const [d, r] = ops.divMod(rest, LIMB_BASE)
      parts.push(d)
      rest = r
    } else parts.push(rest)
    pos.push(...lv.pos.map(p => p + i))
  }
  return { v: ops.concat(parts, 1), pos }
}

/** Fold to m columns at positions 0..m−1, replacing 2^(11p) by its residue mod q. */
function fold (ops: ExactOps, lv: LimbVector, q: bigint, m: number): LimbVector {
  const mat = lv.pos.map(p => limbsOf((1n << BigInt(LIMB_BITS * p)) % q, m))
  return { v: ops.linear(lv.v, mat), pos: Array.from({ length: m }, (_, u) => u) }
}

/** Step 2's bound: the largest quotient and the float error of its estimate. */
function estimateBound (lv: LimbVector, q: bigint, m: number): { qMax: bigint, error: number } {
  const vMax = lv.v.cols.reduce((a, c, u) => a + c[1] * (1n << BigInt(LIMB_BITS * u)), 0n)
  const qMax = vMax / q
  const k = m + 3
  const gamma = (k * FLOAT32_ULP) / (1 - k * FLOAT32_ULP)
  return { qMax, error: gamma * (Number(qMax) + 1.5) }
}

/** What {@link reduceMod} built. */
export interface Reduced {
  /** V mod q as m canonical digits (rows, m), least significant first. */
  readonly digits: IntTensor
  readonly foldRounds: number
  /** Step 2's proven error bound (< ½). */
  readonly estimateError: number
}

/**
 * V mod q, canonical, for V ≥ 0 given as limb columns.
 * @throws {GpuGraphError} if no number of folds brings the estimate's error under ½.
 */
export function reduceMod (g: OnnxGraph, ops: ExactOps, value: LimbVector, q: bigint, m: number): Reduced {
  if (value.v.cols.some(c => c[0] < 0n)) throw new GpuGraphError('reduceMod needs non-negative columns')
  let lv = value
  let bound = { qMax: 0n, error: Infinity }
  let rounds = 0
  while (bound.error >= 0.5 && rounds < MAX_FOLD_ROUNDS) {
    lv = fold(ops, splitDigits(ops, lv), q, m)
    bound = estimateBound(lv, q, m)
    rounds++
  }
  if (bound.error >= 0.5) throw new GpuGraphError(`the quotient estimate's error bound ${bound.error} stays ≥ ½ after ${rounds} folds`)
  const rows = lv.v.t.shape[0]
  const weights = Float32Array.from({ length: m }, (_, u) => Number(1n << BigInt(LIMB_BITS * u)) / Number(q))
  const ef = g.node('Cast', [lv.v.t], 'float32', [rows, m], { to: 1 /* FLOAT */ })
  const qf = g.node('MatMul', [ef, g.float32([m, 1], weights)], 'float32', [rows, 1])
  const shifted = g.node('Add', [qf, g.float32([1], Float32Array.of(-0.5))], 'float32', [rows, 1])
  const qi = g.node('Cast', [shifted], 'int32', [rows, 1], { to: 6 /* INT32 */ })
  const qEst = ops.assume({ t: qi, cols: [[0n, bound.qMax]] }, [0n, bound.qMax], 'step 2: trunc of a float in (−1, V/q) with V/q ≤ qMax')
  // r (candidate 0) and r − q (candidate 1) as signed limbs, columns (candidate, limb).
  const ql = limbsOf(q, m)
  const mat = Array.from({ length: m + 1 }, (_, row) => Array.from({ length: 2 * m }, (_, col) => (row === m ? -ql[col % m] : BigInt(row === col % m))))
  const minusQ = Int32Array.from({ length: 2 * m }, (_, col) => (col < m ? 0 : Number(ql[col - m])))
  const cand = ops.sub(ops.linear(ops.concat([lv.v, qEst], 1), mat), ops.constant([2 * m], minusQ))
  const limbs = ops.split(ops.reshape(cand, [rows, 2, m]), 2, new Array<number>(m).fill(1))
  // Ripple the carries up: digits 0..m−2 canonical, the top one signed (negative iff the candidate is).
  const digits: IntTensor[] = []
  let carry: IntTensor | undefined
  for (let u = 0; u < m - 1; u++) {
    const [d, c] = ops.divMod(carry === undefined ? limbs[u] : ops.add(limbs[u], carry), LIMB_BASE)
    digits.push(d)
    carry = c
  }
  // With the lower digits canonical, the top is ⌊candidate / 2^(11(m−1))⌋, and the
  // candidates r, r − q lie in [−q, 2q) because step 2 put r in [0, 2q).
  const scale = 1n << BigInt(LIMB_BITS * (m - 1))
  const top = ops.assume(ops.add(limbs[m - 1], carry as IntTensor), [-((q + scale - 1n) / scale), (2n * q - 1n) / scale], 'the top digit of a candidate in [−q, 2q)')
  const [c0, c1] = ops.split(ops.concat([...digits, top], 2), 1, [1, 1])
  const chosen = ops.reshape(ops.selectNonNegative(ops.gather(top, 1, [1]), c1, c0), [rows, m])
  const topMax = (1n << BigInt(primeBits(q) - LIMB_BITS * (m - 1))) - 1n
  const bounds = Array.from({ length: m }, (_, u) => [0n, u === m - 1 ? topMax : LIMB_BASE - 1n] as const)
  const canonical = ops.assume(chosen, bounds, 'the candidate in [0, q): canonical digits, the top one < 2^(bits − 11(m − 1))')
  return { digits: canonical, foldRounds: rounds, estimateError: bound.error }
}

/** Canonical digits (rows, m) of residues < 2^61 as the (lo, hi) words of a u64 (rows, 2), bit 31 of lo as −2^31 so no sum leaves int32. */
export function digitsToWords (ops: ExactOps, digits: IntTensor, m: number): IntTensor {
  // Digit 2 holds bits 22–32: bits 22–30 go to lo, bit 31 to lo as −2^31, bit 32 to hi.
  const [d2lo, d2hi] = ops.divMod(ops.gather(digits, 1, [2]), 1n << 9n)
  const [b31, b32] = ops.divMod(d2hi, 2n)
  const high = Array.from({ length: m - 3 }, (_, i) => 3 + i)
  const fields = ops.concat([ops.gather(digits, 1, [0, 1]), d2lo, b31, b32, ops.gather(digits, 1, high)], 1)
  const toWords = [[1n, 0n], [1n << 11n, 0n], [1n << 22n, 0n], [-(1n << 31n), 0n], [0n, 1n], ...high.map(j => [0n, 1n << BigInt(LIMB_BITS * j - 32)])]
  return ops.linear(fields, toWords)
}

/** The (lo, hi) words (rows, 2) of residues < 2^bits, 34 ≤ bits ≤ 61, as m canonical 11-bit digits (rows, m). */
export function wordsToDigits (ops: ExactOps, words: IntTensor, bits: number, m: number): IntTensor {
  const [lo, hiWord] = ops.split(words, 1, [1, 1])
  const hi = ops.assume(hiWord, [0n, 2n ** BigInt(bits - 32) - 1n], 'the caller checked every residue < 2^bits (checkResidues)')
  const [low31, bit31] = ops.unsignedParts(lo)
  const [d0, r0] = ops.divMod(low31, LIMB_BASE)
  const [d1, d2] = ops.divMod(r0, LIMB_BASE) // d2: bits 22–30
  const [h0, hRest] = ops.divMod(hi, 2n) // h0: bit 32
  const high: IntTensor[] = []
  let rest = hRest // bits 33 and up, in limbs 3, 4, …
  for (let l = 3; l < m - 1; l++) {
    const [d, r] = ops.divMod(rest, LIMB_BASE)
    high.push(d)
    rest = r
  }
  high.push(rest)
  // limb 2 = bits 22–30 + 2^9·bit 31 + 2^10·bit 32; the others are single columns.
  const cols = [d0, d1, d2, bit31, h0, ...high]
  const mat = cols.map(() => new Array<bigint>(m).fill(0n))
  mat[0][0] = 1n
  mat[1][1] = 1n
  mat[2][2] = 1n
  mat[3][2] = 1n << 9n
  mat[4][2] = 1n << 10n
  high.forEach((_, i) => { mat[5 + i][3 + i] = 1n })
  return ops.linear(ops.concat(cols, 1), mat)
}
