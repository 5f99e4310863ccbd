/**
 * The packed scheme's noise bound, and the smallest result widths it allows.
 *
 * Units: v = t·phase/q − y at a result coefficient; decryption is exact iff |v| < 1/2.
 * Terms (σ in units of q; each a sum of many independent zero-mean terms, bounded by κσ
 * with κ = 7.5, a per-coefficient tail below 2^−44 for sub-Gaussian sums):
 * - **fresh**: the encryption error (σ_e = 3.2, SEAL's) times the leaf's weights, σ_e·‖w‖₂;
 *   and BFV's rounding of Δ·x, ε ∈ [−1/2, 1/2] — the same for equal inputs, so it can add up
 *   coherently (constant data does): bounded deterministically by ‖w‖₁/2. The orbit's trace
 *   preserves both exactly.
 * - **input key switches**: each key switch of an orbit adds noise to the element it makes,
 *   which every element derived from it inherits (permuted), each then multiplied by its
 *   merged plaintext P_T. A key switch's noise is (d·e)/P + r0 + r1·s for SEAL's digit d of
 *   c1 in [0, q), the key's error e and the rounding r of the division by P. Write d = d_c +
 *   (q/2)·J (J = Σ X^i): d_c·e/P and the rounding are i.i.d. per coefficient (σ_iid), but
 *   (q/2P)·J·e is a smooth random walk, which a smooth P_T (a constant matrix) sums
 *   coherently: its part is bounded through ‖J·P_T‖, not ‖P_T‖ (measured: 3 bits for all-127
 *   matrices). See {@link matrixInputNoiseBits}. This term dominates; it grows like 2^(3b/2)
 *   and is what limits the orbit depth b at a 54-bit data prime.
 * - **output key switches**: one σ_ks per merge, doubled by each level above it.
 *   σ_ks² = σ_e²·N·(q/P)²/3 (the key's error times a digit < q, divided by P) + (1 + N)/12
 *   (the rounding of that division times a ternary secret).
 * - **result switching** (deterministic and Hoeffding): c0 rounded to 2^b0 adds ≤ t/2^(b0+1);
 *   c1 rounded to 2^b1 adds Σ_i r_i·s_(p−i) with |r_i| ≤ 1/2 — at most √(N·ln(2^45)/2) except
 *   with probability 2^−44, times t/2^b1; the user's rescaling to q adds ≤ t·(1 + N)/(2q).
 * C_in = 1.25 is fitted to SEAL on the worst data we know (all +127, all −128, ±127 random,
 * uniform int8; packed.test.ts measures the exact phase and holds it under this bound).
 */
import { HeParamsError } from './errors.ts'
import { addAutomorphed, automorphism } from './galois.ts'
import { columnLeaves, mergeLeaves, orbitElement, type PackedLayout } from './packed-layout.ts'

/** SEAL's error standard deviation (encryption and key generation). */
export const SEAL_NOISE_SIGMA = 3.2
/** Tail factor of the Gaussian-like noise sums: P(|E| > κσ) < 2^−44 per coefficient. */
export const NOISE_KAPPA = 7.5
/** Fit of the input key-switching term (see the file comment). */
export const INPUT_KS_FIT = 1
/** Hoeffding failure probability exponent of the c1 rounding bound (2^−44 per coefficient). */
const ROUNDING_TAIL_LN = 45 * Math.LN2

/** What the noise bound needs to know about the ring and the primes. */
export interface PackedNoiseParams {
  readonly polyDegree: number
  /** t */
  readonly plainModulus: number
  /** log2 of the data prime q and of the special prime P. */
  readonly dataBits: number
  readonly specialBits: number
}

/**
 * The orbit's key switches as noise sources: source k makes element S_k from its parent
 * (one per S ≠ ∅, two at level 2), and its noise reaches every descendant T ⊇ S_k (the
 * elements made from S_k by the levels above its own). Returns, per element S ≠ ∅, the
 * number of key switches that made it from its parent (1 or 2) and its descendants.
 */
function orbitSources (L: PackedLayout): Array<{ self: number, mult: number, desc: number[] }> {
  const b = L.orbitLevels
  const out: Array<{ self: number, mult: number, desc: number[] }> = []
  for (let s = 1; s < 2 ** b; s++) {
    const top = 31 - Math.clz32(s) // the level that made S from its parent
    const desc: number[] = []
    for (let u = 0; u < 2 ** b; u++) if ((u & s) === s && (u & ((1 << (top + 1)) - 1)) === s) desc.push(u)
    out.push({ self: s, mult: L.m + 1 + top === 2 ? 2 : 1, desc })
  }
  return out
}

const inverses = new Map<string, number>()

/** τ_g^(−1) as an element mod 2N (g odd: g^(N−1) mod 2N, the group having order N). */
function inverseElement (g: number, polyDegree: number): number {
  const key = `${polyDegree}/${g}`
  let r = inverses.get(key)
  if (r === undefined) {
    const m = 2 * polyDegree
    r = 1
    for (let k = 0; k < polyDegree - 1; k++) r = (r * g) % m
    inverses.set(key, r)
  }
  return r
}

/** ‖J·Q‖ with J = Σ_(i<N) X^i: (J·Q)_u = Σ_(j≤u) Q_j − Σ_(j>u) Q_j (negacyclic). */
function jNorm (q: Float64Array | Int32Array): number {
  let total = 0
  for (const v of q) total += v
  let prefix = 0
  let sq = 0
  for (let u = 0; u < q.length; u++) {
    prefix += q[u]
    const v = 2 * prefix - total
    sq += v * v
  }
  return Math.sqrt(sq)
}

/** The three σ's of one key switch (units of q): centred digit × key error, rounding, and the digit's mean q/2 × key error. */
function keySwitchParts (p: PackedNoiseParams): { iid: number, mean: number } {
  const ratio = 2 ** (p.dataBits - p.specialBits)
  const centred = (SEAL_NOISE_SIGMA ** 2) * p.polyDegree * ratio * ratio / 12
  const rounding = (1 + p.polyDegree) / 12
  return { iid: Math.sqrt(centred + rounding), mean: SEAL_NOISE_SIGMA * ratio / 2 }
}

/**
 * log2 of the input key switches' σ (units of q) for any int8 matrix — the bound the
 * planner declares when it does not see the weights. Per source and chunk:
 * Σ_T ‖P_T‖ ≤ |reached|·2^b·128·√(r·width), and ‖J·P‖ ≤ min(√N·‖P‖₁, ‖P‖/sin(π/2N)).
 */
export function worstInputNoiseBits (L: PackedLayout, p: PackedNoiseParams): number {
  if (L.orbitLevels === 0) return -Infinity
  const { iid, mean } = keySwitchParts(p)
  const n = L.polyDegree
  const leaves = Math.min(2 ** L.orbitLevels, L.rowBlocks)
  const rows = Math.min(L.rowsPerLeaf, L.dOut)
  let sources = 0
  for (const { mult, desc } of orbitSources(L)) sources += mult * desc.length ** 2
  let v = 0
  for (let c = 0; c < L.chunks; c++) {
    const width = Math.min(L.nI, L.dIn - c * L.nI)
    const b2 = leaves * 128 * Math.sqrt(rows * width)
    const bJ = Math.min(Math.sqrt(n) * leaves * 128 * rows * width, b2 / Math.sin(Math.PI / (2 * n)))
    v += sources * ((iid * b2) ** 2 + (mean * bJ) ** 2)
  }
  return 0.5 * Math.log2(v)
}

/**
 * The input key switches' variance (units of q²) from one column's merged plaintexts of one
 * chunk (`polys[S]`, S = 1…2^b − 1; `nonzero[S]` = 0 for an all-zero one). Each source's
 * noise reaches its descendants T permuted by τ_(T∖S), so its part is bounded
 * (Cauchy–Schwarz) by iid·Σ_T ‖P_T‖ and mean·Σ_T ‖J·τ^(−1)_(T∖S)(P_T)‖.
 */
export function columnInputVariance (L: PackedLayout, polys: readonly Int32Array[], nonzero: Uint8Array, p: PackedNoiseParams): number {
  const { iid, mean } = keySwitchParts(p)
  const n = L.polyDegree
  const norms = new Float64Array(polys.length)
  for (let s = 1; s < polys.length; s++) {
    if (nonzero[s] === 0) continue
    let sq = 0
    const q = polys[s]
    for (let i = 0; i < n; i++) sq += q[i] * q[i]
    norms[s] = Math.sqrt(sq)
  }
  const moved = new Float64Array(n)
  let v = 0
  for (const { mult, desc, self } of orbitSources(L)) {
    let a = 0
    let aJ = 0
    for (const u of desc) {
      if (nonzero[u] === 0) continue
      a += norms[u]
      moved.fill(0)
      addAutomorphed(polys[u], automorphism(n, inverseElement(orbitElement(L, u & ~self), n)), 0, moved)
      aJ += jNorm(moved)
    }
    v += mult * ((iid * a) ** 2 + (mean * aJ) ** 2)
  }
  return v
}

/**
 * log2 of the input key switches' σ (units of q) for a given matrix, from its exact merged
 * plaintexts — what the planner computes when given W (the miner computes the same while
 * it encodes W, and refuses a matrix above its plan's bound).
 *
 * With `above16`, the search's question "is ⌈16·bits⌉ ≤ above16?" is answered early: as soon
 * as one column's bound exceeds it, the result is +Infinity (the columns left could only
 * raise it); otherwise the value is the same as without.
 */
export function matrixInputNoiseBits (L: PackedLayout, w: Int8Array, p: PackedNoiseParams, above16?: number): number {
  if (L.orbitLevels === 0) return -Infinity
  const n = L.polyDegree
  const orbitSize = 2 ** L.orbitLevels
  const polys = Array.from({ length: orbitSize }, () => new Int32Array(n))
  const nonzero = new Uint8Array(orbitSize)
  let worst = 0
  for (let col = 0; col < L.colsPerGroup; col++) {
    let v = 0
    for (let c = 0; c < L.chunks; c++) {
      const leaves = columnLeaves(L, w, c, col)
      for (let s = 1; s < orbitSize; s++) nonzero[s] = mergeLeaves(L, leaves, s, polys[s]) ? 1 : 0
      v += columnInputVariance(L, polys, nonzero, p)
    }
    worst = Math.max(worst, v)
    if (above16 !== undefined && worst > 0 && Math.ceil(16 * (0.5 * Math.log2(worst))) > above16) return Infinity
  }
  return worst === 0 ? -Infinity : 0.5 * Math.log2(worst)
}

/** σ of one key switch, in units of q. */
export function keySwitchSigma (p: PackedNoiseParams): number {
  const ratio = 2 ** (p.dataBits - p.specialBits)
  return Math.sqrt((SEAL_NOISE_SIGMA ** 2) * p.polyDegree * ratio * ratio / 3 + (1 + p.polyDegree) / 12)
}

/** The bound's parts, in units of v (decryption is exact while their sum is < 1/2). */
export interface PackedNoiseBound {
  /** σ of the encryption error's part. */
  readonly fresh: number
  /** The deterministic bound of the Δ·x rounding's part. */
  readonly rounding: number
  readonly inputKeySwitch: number
  readonly outputKeySwitch: number
  /** κ·√(fresh² + input² + output²) + rounding: the HE noise bound before the result switch. */
  readonly he: number
  /** Bits of margin the HE noise leaves before switching: −1 − log2(he). */
  readonly heMarginBits: number
}

/** The HE noise bound of a layout whose input key switches have σ = 2^inputNoiseBits (units of q). */
export function packedNoiseBound (L: PackedLayout, p: PackedNoiseParams, inputNoiseBits: number): PackedNoiseBound {
  const entries = Math.min(L.rowsPerLeaf, L.dOut) * L.dIn
  const ks = keySwitchSigma(p)
  const scale = p.plainModulus / 2 ** p.dataBits
  const fresh = SEAL_NOISE_SIGMA * 128 * Math.sqrt(entries) * scale
  const rounding = 0.5 * 128 * entries * scale
  const inputKeySwitch = L.orbitLevels === 0 ? 0 : INPUT_KS_FIT * 2 ** inputNoiseBits * scale
  const levelTwo = L.m + L.orbitLevels + 1 === 2 ? 2 : 1
  const outputKeySwitch = L.treeLevels === 0 ? 0 : ks * Math.sqrt(levelTwo * (4 ** L.treeLevels - 1) / 3) * scale
  const he = NOISE_KAPPA * Math.sqrt(fresh ** 2 + inputKeySwitch ** 2 + outputKeySwitch ** 2) + rounding
  return { fresh, rounding, inputKeySwitch, outputKeySwitch, he, heMarginBits: -1 - Math.log2(he) }
}

/** Result widths: c0 (the useful coefficients) and c1 (all N), bits each. */
export interface ResultWidths {
  readonly c0Bits: number
  readonly c1Bits: number
  /** The whole bound on |v| after switching (< 1/2). */
  readonly total: number
  /** −1 − log2(total): bits of margin the bound promises. */
  readonly marginBits: number
}

/** The rounding terms of widths (b0, b1), in units of v. */
export function roundingBound (p: PackedNoiseParams, c0Bits: number, c1Bits: number): number {
  const t = p.plainModulus
  const n = p.polyDegree
  const slack = 2 ** -20 // float64 rounding of a 54-bit coefficient, in grid units
  const c0 = t * (0.5 + slack) / 2 ** c0Bits
  const c1 = t * (1 + 2 * slack) * Math.sqrt(n * ROUNDING_TAIL_LN / 2) / 2 ** c1Bits
  const rescale = t * (1 + n) / (2 * 2 ** p.dataBits)
  return c0 + c1 + rescale
}

/**
 * The widths minimising rows·b0 + N·b1 whose bound stays below 1/2.
 * @throws {HeParamsError} when the HE noise alone leaves no room.
 */
export function resultWidths (he: number, p: PackedNoiseParams, rows: number): ResultWidths {
  const maxBits = Math.floor(p.dataBits)
  const minBits = Math.ceil(Math.log2(p.plainModulus)) + 1
  let best: ResultWidths | undefined
  for (let b1 = minBits; b1 <= maxBits; b1++) {
    for (let b0 = minBits; b0 <= maxBits; b0++) {
      const total = he + roundingBound(p, b0, b1)
      if (total >= 0.5) continue
      if (best === undefined || rows * b0 + p.polyDegree * b1 < rows * best.c0Bits + p.polyDegree * best.c1Bits) {
        best = { c0Bits: b0, c1Bits: b1, total, marginBits: -1 - Math.log2(total) }
      }
      break // larger b0 only costs more at this b1
    }
  }
  if (best === undefined) throw new HeParamsError(`the HE noise bound (${he.toFixed(3)} of the 0.5 decryption margin) leaves no room for result switching`)
  return best
}
