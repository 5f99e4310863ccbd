/**
 * The miner's multiply-accumulate as an exact ONNX graph of int32 ops that onnxruntime's
 * WebGPU execution provider runs (and, with MatMul for Gemm, its CPU EP):
 *
 *   y[j][p][k] = Σ_c x[c][p][k] · w[j][c][k] mod q     (j < blocks, p ∈ {c0, c1}, k < N)
 *
 * over NTT-domain residues mod today's 54-bit prime (any odd 34–61-bit q), bit-identical
 * to the WebAssembly kernel. WebGPU has no 64-bit integers, no bitwise ops, no Mod, and
 * no int MatMul, so the graph uses Mul, Add, Sub, Div, Gemm, Concat, Split, Gather,
 * Reshape, Less, GreaterOrEqual, Where, Cast and one float MatMul (not
 * ReduceSum: WebGPU's accumulates int32 in f32, exact only to 2^24):
 *
 * 1. Split every residue into m = ⌈bits/11⌉ limbs of 11 bits (inputs in the graph, from
 *    their (lo, hi) words; weights once, in TypeScript, into initializers).
 * 2. Per tile of blocks: Mul each chunk's limbs by its weights' (all pairs, broadcast),
 *    Add over chunks, and add the pairs of equal weight (a + b = s) with a 0/1 Gemm:
 *    S_s, s < 2m − 1. A limb product is ≤ (2^11 − 1)², so one accumulator holds 512
 *    chunks and a pair sum (≤ m products per chunk) {@link maxChunksPerTile} (102 for 5
 *    limbs); beyond, chunks go to several accumulators, or the pairs stay apart.
 * 3. Reduce mod q (mod-reduce.ts): fold the columns with 2^(11·position) mod q, estimate
 *    the quotient in float32 (proven within ½, so r ∈ [0, 2q)), form r and r − q exactly
 *    and keep the one in [0, q), as canonical digits.
 * 4. Gemm the digits into the (lo, hi) words of a u64 (bit 31 of lo as −2^31, so no sum
 *    leaves int32): exactly the kernel's output layout.
 *
 * Every int32 bound is checked while building (exact-int.ts): a graph that builds cannot
 * overflow for residues < q.
 */
import { GpuGraphError } from './errors.ts'
import { exactOps, MAX_NODE_BUFFERS, type ExactOps, type IntTensor, type LinearOp } from './exact-int.ts'
import { checkResidues, LIMB_BASE, limbCount, primeBits, wordsToLimbs } from './limbs.ts'
import { digitsToWords, reduceMod, wordsToDigits, type LimbVector } from './mod-reduce.ts'
import { createOnnxGraph } from './onnx-graph.ts'

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
/** Largest polynomial degree, chunk or block count accepted (SEAL's N ≤ 32768; shapes beyond 2^16 are not jobs). */
export const MAX_DIMENSION = 1 << 16

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
  const x = ops.input('x', [s.chunks, 2, s.polyDegree, 2], [-(2n ** 31n), 2n ** 31n - 1n])
  const digits = wordsToDigits(ops, ops.reshape(x, [s.chunks * 2 * s.polyDegree, 2]), primeBits(s.q), m)
  const limbs = ops.reshape(digits, [s.chunks, 2, s.polyDegree, m, 1])
  // Split off at most 6 chunks and the rest per node: a Split binds one buffer per output,
  // and WebGPU allows 8 per node (MAX_NODE_BUFFERS).
  const pieces: IntTensor[] = []
  let rest = limbs
  for (let left = s.chunks; left > 0;) {
    if (left === 1) { pieces.push(rest); break }
    const take = Math.min(left, MAX_NODE_BUFFERS - 1)
    const sizes = take === left ? new Array<number>(take).fill(1) : [...new Array<number>(take - 1).fill(1), left - take + 1]
    const parts = ops.split(rest, 0, sizes)
    if (take === left) { pieces.push(...parts); break }
    pieces.push(...parts.slice(0, -1))
    rest = parts[parts.length - 1]
    left -= take - 1
  }
  return pieces
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
  const { lv, tile } = pairSums(ops, shape, weights, m, maxTileBytes)
  const reduced = reduceMod(g, ops, lv, shape.q, m)
  const y = digitsToWords(ops, reduced.digits, m)
  g.output(ops.reshape(y, [shape.blocks, 2, shape.polyDegree, 2]).t, 'y')
  return {
    model: g.encode(),
    limbs: m,
    tile,
    foldRounds: reduced.foldRounds,
    estimateError: reduced.estimateError,
    weightBytes: shape.blocks * shape.chunks * shape.polyDegree * m * 4,
    largestTensorBytes: g.largestTensorBytes(),
    opCounts: g.opCounts()
  }
}
