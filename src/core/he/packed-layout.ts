/**
 * The packed scheme's layout, independent of any HE library: where inputs, weights and
 * results sit in the ring Z_t[X]/(X^N + 1), and the plaintext twin that runs the whole
 * algebra without encryption.
 *
 * It is Rhombus's row-major matvec (He et al., "Rhombus: Fast Homomorphic Matrix-Vector
 * Multiplication for Secure Two-Party Inference", CCS 2024, eprint 2024/1611) on the
 * Cheetah coefficient encoding:
 * - **Leaves.** With n_i = N/2^m, an input ciphertext holds v vectors, vector k's chunk at
 *   coefficients k·N/v + [0, n_i); a leaf plaintext holds r = 2^m/v rows, row ρ's chunk
 *   reversed at ρ·n_i − j. Their product has, at k·N/v + ρ·n_i, exactly row ρ · vector k:
 *   N/n_i results per product, at multiples of n_i, garbage elsewhere.
 * - **PackRLWEs** (Chen–Dai–Kim–Song, ACNS 2021) merges two ciphertexts whose results sit at
 *   multiples of 2h into one, ct = (ce + X^h·co) + τ_(2^ℓ+1)(ce − X^h·co) with h = N/2^ℓ,
 *   doubling every result (one key switch). A binary tree of such merges over levels
 *   m+1…m+L packs 2^L leaves: Σ_j X^(j·h_top)·T(leaf_j) with T = Π_ℓ (1 + τ_ℓ).
 * - **MergeAut** (Rhombus): the bottom b levels of T commute with the products, so
 *   T_b(ct·w) = Σ_S τ_S(ct)·τ_S(w) over the 2^b subsets S of those levels. The miner expands
 *   each input once into its *orbit* {τ_S(ct)} (2^b − 1 key switches, shared by every leaf)
 *   and multiplies it with *merged* plaintexts P_S = Σ_(j_hi) X^(j_hi·s)·τ_S(w_(j_hi)) that
 *   already hold the bottom of the tree for 2^b leaves; only the top a levels remain as
 *   merges. Key switches: 2^b − 1 per input plus one per merge of the top tree —
 *   ~2·√leaves at the balanced split instead of leaves − 1.
 * - **Scaling.** The trace doubles results once per level. Mod q this is undone for free:
 *   the miner multiplies each input by 2^−b before its orbit and each merged leaf by 2^−e
 *   (e = merges on its path) — before any noise the later doublings would amplify. In the
 *   noiseless twin (mod t) the same factors are applied at the end, which linearity allows.
 *
 * Units: a *merged leaf* (group g, column col) is the plan's *block* — the unit a miner's
 * worker pool splits a job by. Merged leaves are packed 2^a per tree; each tree (or the
 * part of one a block range covers) is one result ciphertext.
 */
import { automorphism, levelElement } from './galois.ts'
import { HeParamsError } from './errors.ts'

/** Where everything of one packed job sits. Every field is derived by {@link packedLayout}. */
export interface PackedLayout {
  readonly polyDegree: number
  readonly dOut: number
  readonly dIn: number
  /** T: input vectors in one job (prompt tokens). */
  readonly batch: number
  /** n_i = N/2^m: the chunk width and the stride of a leaf's results. */
  readonly m: number
  readonly nI: number
  /** ⌈d_in / n_i⌉ input ciphertexts per group. */
  readonly chunks: number
  /** v: input vectors per ciphertext (a power of two ≤ 2^m), at offsets k·N/v. */
  readonly vectors: number
  /** r = 2^m / v: matrix rows per leaf. */
  readonly rowsPerLeaf: number
  /** ⌈T / v⌉ input groups; the job's inputs are groups × chunks ciphertexts. */
  readonly groups: number
  /** ⌈d_out / r⌉ leaves per group. */
  readonly rowBlocks: number
  /** b: input-side orbit levels m+1…m+b (2^b orbit elements per input ciphertext). */
  readonly orbitLevels: number
  /** ⌈rowBlocks / 2^b⌉ merged leaves per group. */
  readonly colsPerGroup: number
  /** Merged leaves in all: groups × colsPerGroup, the plan's blocks. */
  readonly blocks: number
  /** a: top-tree levels m+b+1…m+b+a. */
  readonly treeLevels: number
  /** 2^a merged leaves per tree (result ciphertext). */
  readonly perTree: number
  readonly trees: number
  /** s = N/2^(m+b): offset between the 2^b leaves inside a merged leaf. */
  readonly subStride: number
  /** h = N/2^(m+b+a): offset between a tree's slots. */
  readonly slotStride: number
}

/** The choices a plan makes; the rest follows. */
export interface PackedLayoutChoice {
  readonly m: number
  readonly orbitLevels: number
  readonly vectors?: number
  readonly batch?: number
}

const isPow2 = (v: number): boolean => Number.isInteger(v) && v >= 1 && (v & (v - 1)) === 0

/**
 * The layout of a dOut × dIn job on ring N.
 * @throws {HeParamsError} for impossible choices.
 */
export function packedLayout (dOut: number, dIn: number, polyDegree: number, c: PackedLayoutChoice): PackedLayout {
  const logN = Math.log2(polyDegree)
  const batch = c.batch ?? 1
  const vectors = c.vectors ?? 1
  const { m, orbitLevels: b } = c
  if (!isPow2(polyDegree) || polyDegree < 16) throw new HeParamsError(`ring degree ${polyDegree} is not a power of two ≥ 16`)
  if (![dOut, dIn, batch].every(v => Number.isSafeInteger(v) && v >= 1)) throw new HeParamsError(`shape ${dOut}×${dIn}, batch ${batch} is not positive`)
  if (!Number.isInteger(m) || m < 1 || m > logN) throw new HeParamsError(`m = ${m}: n_i = N/2^m needs 1 ≤ m ≤ ${logN}`)
  if (!isPow2(vectors) || vectors > 2 ** m) throw new HeParamsError(`${vectors} vectors per ciphertext: a power of two ≤ 2^m = ${2 ** m}`)
  if (!Number.isInteger(b) || b < 0 || m + b > logN) throw new HeParamsError(`orbit levels b = ${b}: needs 0 ≤ b ≤ ${logN - m}`)
  const nI = polyDegree >> m
  const rowsPerLeaf = 2 ** m / vectors
  const groups = Math.ceil(batch / vectors)
  const rowBlocks = Math.ceil(dOut / rowsPerLeaf)
  const colsPerGroup = Math.ceil(rowBlocks / 2 ** b)
  const blocks = groups * colsPerGroup
  const treeLevels = Math.min(logN - m - b, Math.ceil(Math.log2(blocks)))
  const perTree = 2 ** treeLevels
  return {
    polyDegree,
    dOut,
    dIn,
    batch,
    m,
    nI,
    chunks: Math.ceil(dIn / nI),
    vectors,
    rowsPerLeaf,
    groups,
    rowBlocks,
    orbitLevels: b,
    colsPerGroup,
    blocks,
    treeLevels,
    perTree,
    trees: Math.ceil(blocks / perTree),
    subStride: polyDegree >> (m + b),
    slotStride: polyDegree >> (m + b + treeLevels)
  }
}

/** The Galois element of orbit subset S (bit l ↔ level m+1+l). */
export function orbitElement (L: PackedLayout, subset: number): number {
  let g = 1
  for (let l = 0; l < L.orbitLevels; l++) if (((subset >> l) & 1) === 1) g = (g * levelElement(L.polyDegree, L.m + 1 + l)) % (2 * L.polyDegree)
  return g
}

/** Block range [first, end) of the trees it touches: tree index and the sub-range in it. */
export function treesOf (L: PackedLayout, first: number, end: number): Array<{ tree: number, first: number, end: number }> {
  const out: Array<{ tree: number, first: number, end: number }> = []
  for (let tr = Math.floor(first / L.perTree); tr * L.perTree < end; tr++) {
    out.push({ tree: tr, first: Math.max(first, tr * L.perTree), end: Math.min(end, (tr + 1) * L.perTree) })
  }
  return out
}

/**
 * Visit the results of merged leaf `block`: its coefficient position in its tree's result
 * ciphertext, the input vector and the matrix row. Order: j_hi, vector, row — the order of
 * the c0 coefficients on the wire.
 */
export function forEachOutput (L: PackedLayout, block: number, f: (position: number, vector: number, row: number) => void): void {
  const g = Math.floor(block / L.colsPerGroup)
  const col = block % L.colsPerGroup
  const slot = block % L.perTree
  const vecStride = L.polyDegree / L.vectors
  for (let jHi = 0; jHi < 2 ** L.orbitLevels; jHi++) {
    const rb = col * 2 ** L.orbitLevels + jHi
    if (rb >= L.rowBlocks) break
    for (let k = 0; k < L.vectors; k++) {
      const vec = g * L.vectors + k
      if (vec >= L.batch) break
      for (let rho = 0; rho < L.rowsPerLeaf; rho++) {
        const row = rb * L.rowsPerLeaf + rho
        if (row >= L.dOut) break
        f(k * vecStride + rho * L.nI + jHi * L.subStride + slot * L.slotStride, vec, row)
      }
    }
  }
}

/** The results of a block range, in the order {@link forEachOutput} visits them. */
export interface OutputPositions {
  /** Coefficient of each result. */
  readonly position: Int32Array
  readonly vector: Int32Array
  readonly row: Int32Array
}

const positionCache = new WeakMap<PackedLayout, Map<string, OutputPositions>>()
/** Distinct block ranges remembered per layout (a job has one per tree, or per tree and split). */
const POSITION_RANGES = 64

/**
 * The results of blocks [first, end) except the `zeros` blocks, as arrays — what a result
 * ciphertext's c0 carries, in order. Remembered per layout and range (at most
 * {@link POSITION_RANGES} ranges per layout): every job of a matrix asks for the same ones.
 * The arrays are shared: read them, never write.
 */
export function outputPositions (L: PackedLayout, first: number, end: number, zeros: readonly number[] = []): OutputPositions {
  const key = `${first},${end},${zeros.join(',')}`
  let byRange = positionCache.get(L)
  const hit = byRange?.get(key)
  if (hit !== undefined) return hit
  const position: number[] = []
  const vector: number[] = []
  const row: number[] = []
  for (let b = first; b < end; b++) {
    if (zeros.includes(b)) continue
    forEachOutput(L, b, (p, v, r) => { position.push(p); vector.push(v); row.push(r) })
  }
  const out = Object.freeze({ position: Int32Array.from(position), vector: Int32Array.from(vector), row: Int32Array.from(row) })
  if (byRange === undefined) positionCache.set(L, byRange = new Map())
  if (byRange.size < POSITION_RANGES) byRange.set(key, out)
  return out
}

/** Number of results of blocks [first, end) (the c0 coefficients a result carries). */
export function outputCount (L: PackedLayout, first: number, end: number): number {
  let n = 0
  for (let b = first; b < end; b++) forEachOutput(L, b, () => { n++ })
  return n
}

/**
 * Input ciphertext (group g, chunk c): for k < v, x_(g·v+k)[c·n_i + j] at k·N/v + j, mod t.
 * `xs` holds the job's T vectors.
 */
export function packPackedInput (L: PackedLayout, xs: readonly Int8Array[], group: number, chunk: number, t: number, out: Uint32Array): void {
  out.fill(0)
  forEachPackedInput(L, xs, group, chunk, (x, from, count, at) => {
    for (let j = 0; j < count; j++) {
      const v = x[from + j]
      out[at + j] = v < 0 ? t + v : v
    }
  })
}

/**
 * Where the vectors of input ciphertext (group, chunk) go: vector k's chunk — x[from, from
 * + count) — at coefficients at = k·N/v onwards. The one statement of the layout, for the
 * plaintext (packPackedInput) and for encryption ahead (packed-user.ts).
 */
export function forEachPackedInput (L: PackedLayout, xs: readonly Int8Array[], group: number, chunk: number, visit: (x: Int8Array, from: number, count: number, at: number) => void): void {
  const base = chunk * L.nI
  const width = Math.min(L.nI, L.dIn - base)
  const vecStride = L.polyDegree / L.vectors
  for (let k = 0; k < L.vectors; k++) {
    const x = xs[group * L.vectors + k]
    if (x === undefined) break
    visit(x, base, width, k * vecStride)
  }
}

/**
 * Leaf (row block rb, chunk c) as centred integers: W[rb·r + ρ][c·n_i + j] at ρ·n_i − j
 * (negated where it wraps below 0). Returns false for an all-zero leaf.
 */
export function leafPolynomial (L: PackedLayout, w: Int8Array, rowBlock: number, chunk: number, out: Int32Array): boolean {
  out.fill(0)
  const base = chunk * L.nI
  const width = Math.min(L.nI, L.dIn - base)
  let nonzero = false
  for (let rho = 0; rho < L.rowsPerLeaf; rho++) {
    const row = rowBlock * L.rowsPerLeaf + rho
    if (row >= L.dOut) break
    const src = row * L.dIn + base
    for (let j = 0; j < width; j++) {
      const v = w[src + j]
      if (v === 0) continue
      nonzero = true
      const e = rho * L.nI - j
      if (e >= 0) out[e] += v
      else out[e + L.polyDegree] -= v
    }
  }
  return nonzero
}

/** The leaves of merged leaf column `col`, chunk c (null for an all-zero or missing leaf). */
export function columnLeaves (L: PackedLayout, w: Int8Array, chunk: number, col: number): Array<Int32Array | null> {
  const out: Array<Int32Array | null> = []
  for (let jHi = 0; jHi < 2 ** L.orbitLevels; jHi++) {
    const rb = col * 2 ** L.orbitLevels + jHi
    const leaf = new Int32Array(L.polyDegree)
    out.push(rb < L.rowBlocks && leafPolynomial(L, w, rb, chunk, leaf) ? leaf : null)
  }
  return out
}

/**
 * The merged plaintext P_(S, c, col) = Σ_(j_hi) X^(j_hi·s)·τ_S(leaf(col·2^b + j_hi, c)) of a
 * column's leaves, as centred integers (|coefficient| ≤ 2^b·128). Returns false when all zero.
 */
export function mergeLeaves (L: PackedLayout, leaves: ReadonlyArray<Int32Array | null>, subset: number, out: Int32Array): boolean {
  out.fill(0)
  const a = automorphism(L.polyDegree, orbitElement(L, subset))
  const n = L.polyDegree
  const m = 2 * n
  let nonzero = false
  const dest = a.dest
  for (let jHi = 0; jHi < leaves.length; jHi++) {
    const leaf = leaves[jHi]
    if (leaf === null) continue
    nonzero = true
    // over the leaf's nonzero coefficients only (r·n_i of N when v > 1): the same sum as addAutomorphed
    const shift = jHi * L.subStride
    const support = supportOf(leaf)
    for (let k = 0; k < support.length; k++) {
      const i = support[k]
      let e = dest[i] + shift
      if (e >= m) e -= m
      if (e >= n) out[e - n] -= leaf[i]
      else out[e] += leaf[i]
    }
  }
  return nonzero
}

// A leaf's nonzero positions, computed once per leaf (a column's leaves serve all 2^b subsets).
const supports = new WeakMap<Int32Array, Int32Array>()
function supportOf (leaf: Int32Array): Int32Array {
  let s = supports.get(leaf)
  if (s === undefined) {
    let k = 0
    for (let i = 0; i < leaf.length; i++) if (leaf[i] !== 0) k++
    s = new Int32Array(k)
    k = 0
    for (let i = 0; i < leaf.length; i++) if (leaf[i] !== 0) s[k++] = i
    supports.set(leaf, s)
  }
  return s
}

/** {@link mergeLeaves} of one column, its leaves built on the spot. */
export function mergedPlaintext (L: PackedLayout, w: Int8Array, subset: number, chunk: number, col: number, out: Int32Array): boolean {
  return mergeLeaves(L, columnLeaves(L, w, chunk, col), subset, out)
}

/**
 * Merges on each slot's path in a tree whose occupied slots are `occupied` (length 2^a):
 * the power of two the tree multiplies that slot's results by.
 */
export function mergeExponents (occupied: readonly boolean[]): Int32Array {
  const e = new Int32Array(occupied.length)
  const walk = (ids: number[]): number[] => {
    if (ids.length === 1) return occupied[ids[0]] ? ids : []
    const ev = walk(ids.filter((_, i) => i % 2 === 0))
    const od = walk(ids.filter((_, i) => i % 2 === 1))
    if (ev.length > 0 && od.length > 0) for (const id of [...ev, ...od]) e[id]++
    return [...ev, ...od]
  }
  walk(occupied.map((_, i) => i))
  return e
}

/**
 * The PackRLWEs tree over 2^a slots (null = empty) at levels top−a+1…top: `merge(even,
 * odd, level)` = (even + X^h·odd) + τ(even − X^h·odd), `shift(odd, level)` = X^h·odd (an
 * empty even side needs no key switch). Returns the root, or null for an empty tree.
 */
export function packTree<X> (slots: ReadonlyArray<X | null>, top: number, ops: { merge: (even: X, odd: X, level: number) => X, shift: (odd: X, level: number) => X }): X | null {
  if (slots.length === 1) return slots[0]
  const even = packTree(slots.filter((_, i) => i % 2 === 0), top - 1, ops)
  const odd = packTree(slots.filter((_, i) => i % 2 === 1), top - 1, ops)
  if (odd === null) return even
  if (even === null) return ops.shift(odd, top)
  return ops.merge(even, odd, top)
}
