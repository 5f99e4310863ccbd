/**
 * The miner's multiply-accumulate as an exact ONNX graph of int32 ops that onnxruntime's
 * WebGPU execution provider runs (and, with MatMul for Gemm, its CPU EP):
 *
 *   y[j][p][k] = Σ_c x[c][p][k] · w[j][c][k] mod q     (j < blocks, p ∈ {c0, c1}, k < N)
 *
 * over NTT-domain residues mod today's 54-bit prime (any odd 34–61-bit q), bit-identical
 * to the WebAssembly kernel. WebGPU has no 64-bit integers, no bitwise ops, no Mod, and
 * no int MatMul, so the graph uses Mul, Add, Sub, Div, Gemm, Concat, Split, Gather,
 * Transpose, Reshape, Less, GreaterOrEqual, Where, Cast and one float MatMul (not
 * ReduceSum: WebGPU's accumulates int32 in f32, exact only to 2^24):
 *
 * 1. Split every residue into m = ⌈bits/11⌉ limbs of 11 bits (inputs in the graph, from
 *    their (lo, hi) words; weights once, in TypeScript, into initializers).
 * 2. Per tile of blocks: Mul each chunk's limbs by its weights' (all pairs, broadcast),
 *    Add over chunks, and add the pairs of equal weight (a + b = s) with a 0/1 Gemm:
 *    S_s, s < 2m − 1. A limb product is ≤ (2^11 − 1)², so one accumulator holds 512
 *    chunks and a pair sum (≤ m products per chunk) {@link maxChunksPerTile} (102 for 5
 *    limbs); beyond, chunks go to several accumulators, or the pairs stay apart.
 * 3. Fold: split each column into 11-bit digits (exact Div/Mul/Sub) and Gemm them with
 *    the limbs of 2^(11·position) mod q: E_u, u < m, with Σ E_u·2^(11u) ≡ the sum (mod q)
 *    and E_u < 2^28. Repeat while step 4's error bound is not met (once, for 54 bits).
 * 4. Estimate the quotient in float32: Q̂ = trunc(Σ E_u·fl(2^(11u)/q) − ½). With relative
 *    error γ_(m+3) ≤ (m+3)·2^−23 and V/q < 2^18, |error| < ½, so Q̂ ∈ {Q − 1, Q} for
 *    Q = ⌊V/q⌋ (trunc of a value in (V/q − 1, V/q)), and r = V − Q̂·q ∈ [0, 2q).
 * 5. Form r and r − q exactly as signed limbs (one Gemm), make them canonical with a
 *    ripple of floor divisions, keep r − q where it is ≥ 0 (Where on its top limb), and
 *    Gemm the digits into the (lo, hi) words of a u64 (bit 31 of lo as −2^31, so no sum
 *    leaves int32), which is exactly the kernel's output layout.
 *
 * Every int32 bound is checked while building (exact-int.ts): a graph that builds cannot
 * overflow for residues < q.
 */
import { GpuGraphError } from './errors.ts'
import { exactOps, type ExactOps, type IntTensor, type LinearOp } from './exact-int.ts'
import { checkResidues, LIMB_BASE, LIMB_BITS, limbCount, limbsOf, primeBits, wordsToLimbs } from './limbs.ts'
import { createOnnxGraph, type OnnxGraph } from './onnx-graph.ts'

/** The job shape a graph is built for: the miner's (prime, N, chunks, blocks). */
export interface MacShape {
  readonly q: bigint
  readonly polyDegree: number
  readonly chunks: number
  readonly blocks: number
}

/**
 * Largest limb-product tile, in bytes: WebGPU guarantees storage buffers of 128 MiB
 * (maxStorageBufferBindingSize); half of it leaves room for the tile's inputs.
 */
export const MAX_TILE_BYTES = 64 * 2 ** 20
/** Split-and-fold rounds tried before giving up on the float estimate's bound (one suffices for 34–61-bit primes). */
export const MAX_FOLD_ROUNDS = 4
/** Largest polynomial degree, chunk or block count accepted (SEAL's N ≤ 32768; shapes beyond 2^16 are not jobs). */
export const MAX_DIMENSION = 1 << 16
/** Unit roundoff of float32 taken as a whole ulp, so conversions need not round to nearest. */
const FLOAT32_ULP = 2 ** -23

/** Chunks one accumulator may sum: limb products of ≤ (2^11 − 1)² each, below 2^31 (512). */
export function maxChunksPerAccumulator (): number {
  return Number((2n ** 31n - 1n) / (LIMB_BASE - 1n) ** 2n)
}

/** Chunks whose pair sums (≤ m products per chunk) stay below 2^31: 102 for 5 limbs, 85 for 6. */
export function maxChunksPerTile (m: number): number {
  return Number((2n ** 31n - 1n) / (BigInt(m) * (LIMB_BASE - 1n) ** 2n))
}

/** What was built, for the runner and the benchmark. */
export interface MacGraph {
  /** The ModelProto bytes: input `x` int32 (chunks, 2, N, 2), output `y` int32 (blocks, 2, N, 2). */
  readonly model: Uint8Array
  readonly limbs: number
  /** Blocks per tile, chunks per accumulator, and the number of (tile, accumulator) pairs. */
  readonly tile: { readonly blocks: number, readonly chunks: number, readonly count: number }
  readonly foldRounds: number
  /** The float estimate's proven error bound (< ½). */
  readonly estimateError: number
  /** Bytes of weight limbs in the model (they live on the GPU once the session exists). */
  readonly weightBytes: number
  /** The largest tensor any node produces. */
  readonly largestTensorBytes: number
  readonly opCounts: Readonly<Record<string, number>>
}

/** A value Σ_j column_j · 2^(11·pos_j): a tensor (rows, columns) and each column's position. */
interface LimbVector {
  readonly v: IntTensor
  readonly pos: readonly number[]
}

/**
 * Check a shape's sizes.
 * @throws {GpuGraphError} for a non-integer or out-of-range size, or an unsupported prime.
 */
export function checkMacShape (s: MacShape): number {
  for (const [k, v] of [['polyDegree', s.polyDegree], ['chunks', s.chunks], ['blocks', s.blocks]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_DIMENSION) throw new GpuGraphError(`${k} = ${v} is outside [1, ${MAX_DIMENSION}]`)
  }
  return limbCount(s.q)
}

/** The limbs (b, k, limb) of chunk c's weights for blocks [b0, b1), from dense words (block, chunk, k). */
function weightTile (s: MacShape, words: Uint32Array, m: number, b0: number, b1: number, c: number): Int32Array {
  const n = s.polyDegree
  const out = new Int32Array((b1 - b0) * n * m)
  for (let b = b0; b < b1; b++) wordsToLimbs(words, (b * s.chunks + c) * n, n, m, out, (b - b0) * n * m)
  return out
}

/** The input words (chunks, 2, N, 2) as one limb tensor (1, 2, N, m, 1) per chunk. */
function inputLimbs (ops: ExactOps, s: MacShape, m: number): IntTensor[] {
  const rows = s.chunks * 2 * s.polyDegree
  const bits = primeBits(s.q)
  const x = ops.input('x', [s.chunks, 2, s.polyDegree, 2], [-(2n ** 31n), 2n ** 31n - 1n])
  const [lo, hiWord] = ops.split(ops.reshape(x, [rows, 2]), 1, [1, 1])
  const hi = ops.assume(hiWord, [0n, 2n ** BigInt(bits - 32) - 1n], 'the runner checked every residue < q < 2^bits (checkResidues)')
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
  const limbs = ops.reshape(ops.linear(ops.concat(cols, 1), mat), [s.chunks, 2, s.polyDegree, m, 1])
  // One Gather per chunk (a Split into many outputs would bind more storage buffers than WebGPU allows).
  return Array.from({ length: s.chunks }, (_, c) => (s.chunks === 1 ? limbs : ops.gather(limbs, 0, [c])))
}

/**
 * Steps 1–2: per block tile, accumulate each chunk's limb products (Mul, then Add — not
 * ReduceSum, whose WebGPU kernel sums int32 in f32, exact only to 2^24), and add the
 * pairs of equal weight with a 0/1 Gemm where the pair bound allows.
 */
function pairSums (ops: ExactOps, s: MacShape, words: Uint32Array, m: number, maxTileBytes: number): { lv: LimbVector, tile: MacGraph['tile'] } {
  const n = s.polyDegree
  const perBlockBytes = 2 * n * m * m * 4
  const gb = Math.max(1, Math.min(s.blocks, Math.floor(maxTileBytes / perBlockBytes)))
  const blockTiles = Math.ceil(s.blocks / gb)
  const perAcc = maxChunksPerAccumulator()
  const groups = Math.ceil(s.chunks / perAcc)
  const cg = Math.ceil(s.chunks / groups)
  const pairable = cg <= maxChunksPerTile(m)
  const pair = Array.from({ length: m * m }, (_, ab) => Array.from({ length: 2 * m - 1 }, (_, t) => (Math.floor(ab / m) + (ab % m) === t ? 1n : 0n)))
  const x = inputLimbs(ops, s, m)
  const rowsOfTiles: IntTensor[] = []
  for (let b0 = 0; b0 < s.blocks; b0 += gb) {
    const b1 = Math.min(s.blocks, b0 + gb)
    const sums: IntTensor[] = []
    for (let c0 = 0; c0 < s.chunks; c0 += cg) {
      let acc: IntTensor | undefined
      for (let c = c0; c < Math.min(s.chunks, c0 + cg); c++) {
        const wt = ops.constant([b1 - b0, 1, n, 1, m], weightTile(s, words, m, b0, b1, c))
        const w = ops.assume(wt, [0n, LIMB_BASE - 1n], 'weights checked < q (checkResidues): limbs < 2^11')
        // (b, 1, k, 1, limb b) × (1, p, k, limb a, 1) → (b, p, k, limb a, limb b)
        const product = ops.mul(w, x[c])
        acc = acc === undefined ? product : ops.add(acc, product)
      }
      const t = ops.reshape(acc as IntTensor, [(b1 - b0) * 2 * n, m * m])
      sums.push(pairable ? ops.linear(t, pair) : t)
    }
    rowsOfTiles.push(sums.length === 1 ? sums[0] : ops.concat(sums, 1))
  }
  const v = rowsOfTiles.length === 1 ? rowsOfTiles[0] : ops.concat(rowsOfTiles, 0)
  const groupPos = pairable ? Array.from({ length: 2 * m - 1 }, (_, t) => t) : Array.from({ length: m * m }, (_, ab) => Math.floor(ab / m) + (ab % m))
  const pos = Array.from({ length: groups }, () => groupPos).flat()
  return { lv: { v, pos }, tile: { blocks: gb, chunks: cg, count: blockTiles * groups } }
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
  return { v: parts.length === 1 ? parts[0] : ops.concat(parts, 1), pos }
}

/** Fold to m columns at positions 0..m−1, replacing 2^(11p) by its residue mod q. */
function fold (ops: ExactOps, lv: LimbVector, q: bigint, m: number): LimbVector {
  const mat = lv.pos.map(p => limbsOf((1n << BigInt(LIMB_BITS * p)) % q, m))
  return { v: ops.linear(lv.v, mat), pos: Array.from({ length: m }, (_, u) => u) }
}

/** Step 4's bound: the largest quotient and the float error of its estimate. */
function estimateBound (lv: LimbVector, q: bigint, m: number): { qMax: bigint, error: number } {
  const vMax = lv.v.cols.reduce((a, c, u) => a + c[1] * (1n << BigInt(LIMB_BITS * u)), 0n)
  const qMax = vMax / q
  const k = m + 3
  const gamma = (k * FLOAT32_ULP) / (1 - k * FLOAT32_ULP)
  return { qMax, error: gamma * (Number(qMax) + 1.5) }
}

/** Steps 4–5: from E (rows, m) to the canonical residue's (lo, hi) words (rows/2N blocks…). */
function reduceToWords (g: OnnxGraph, ops: ExactOps, lv: LimbVector, q: bigint, m: number, qMax: bigint): IntTensor {
  const rows = lv.v.t.shape[0]
  const weights = Float32Array.from({ length: m }, (_, u) => Number(1n << BigInt(LIMB_BITS * u)) / Number(q))
  const ef = g.node('Cast', [lv.v.t], 'float32', [rows, m], { to: 1 /* FLOAT */ })
  const qf = g.node('MatMul', [ef, g.float32([m, 1], weights)], 'float32', [rows, 1])
  const shifted = g.node('Add', [qf, g.float32([1], Float32Array.of(-0.5))], 'float32', [rows, 1])
  const qi = g.node('Cast', [shifted], 'int32', [rows, 1], { to: 6 /* INT32 */ })
  const qEst = ops.assume({ t: qi, cols: [[0n, qMax]] }, [0n, qMax], 'step 4: trunc of a float in (−1, V/q) with V/q ≤ qMax')
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
  // candidates r, r − q lie in [−q, 2q) because step 4 put r in [0, 2q).
  const scale = 1n << BigInt(LIMB_BITS * (m - 1))
  const top = ops.assume(ops.add(limbs[m - 1], carry as IntTensor), [-((q + scale - 1n) / scale), (2n * q - 1n) / scale], 'the top digit of a candidate in [−q, 2q)')
  // Digit 2 holds bits 22–32: bits 22–30 go to lo, bit 31 to lo as −2^31, bit 32 to hi.
  const [d2lo, d2hi] = ops.divMod(digits[2], 1n << 9n)
  const [b31, b32] = ops.divMod(d2hi, 2n)
  const fields = [digits[0], digits[1], d2lo, b31, b32, ...digits.slice(3), top]
  const toWords = [[1n, 0n], [1n << 11n, 0n], [1n << 22n, 0n], [-(1n << 31n), 0n], [0n, 1n],
    ...fields.slice(5).map((_, i) => [0n, 1n << BigInt(LIMB_BITS * (3 + i) - 32)])]
  const words = ops.linear(ops.reshape(ops.concat(fields, 2), [2 * rows, fields.length]), toWords)
  const [w0, w1] = ops.split(ops.reshape(words, [rows, 2, 2]), 1, [1, 1])
  return ops.selectNonNegative(ops.gather(top, 1, [1]), w1, w0)
}

/**
 * Build the graph for `shape` with its weights baked in as initializers: `weights` holds
 * blocks × chunks × N residues < q as (lo, hi) words, dense (block, chunk, k) order.
 * @throws {GpuGraphError} for an unsupported shape; {GpuJobError} for wrong weights.
 */
export function buildMacGraph (shape: MacShape, weights: Uint32Array, linearOp: LinearOp, maxTileBytes = MAX_TILE_BYTES): MacGraph {
  const m = checkMacShape(shape)
  checkResidues(weights, shape.blocks * shape.chunks * shape.polyDegree, shape.q, 'weights')
  const g = createOnnxGraph('cerberus-mac')
  const ops = exactOps(g, linearOp)
  const { lv: sums, tile } = pairSums(ops, shape, weights, m, maxTileBytes)
  let lv = sums
  let bound = { qMax: 0n, error: Infinity }
  let rounds = 0
  while (bound.error >= 0.5 && rounds < MAX_FOLD_ROUNDS) {
    lv = fold(ops, splitDigits(ops, lv), shape.q, m)
    bound = estimateBound(lv, shape.q, m)
    rounds++
  }
  if (bound.error >= 0.5) throw new GpuGraphError(`the quotient estimate's error bound ${bound.error} stays ≥ ½ after ${rounds} folds`)
  const y = reduceToWords(g, ops, lv, shape.q, m, bound.qMax)
  g.output(ops.reshape(y, [shape.blocks, 2, shape.polyDegree, 2]).t, 'y')
  return {
    model: g.encode(),
    limbs: m,
    tile,
    foldRounds: rounds,
    estimateError: bound.error,
    weightBytes: shape.blocks * shape.chunks * shape.polyDegree * m * 4,
    largestTensorBytes: g.largestTensorBytes(),
    opCounts: g.opCounts()
  }
}
