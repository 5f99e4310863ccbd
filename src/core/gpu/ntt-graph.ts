/**
 * PROTOTYPE, measured and not wired in (issue 13, "if the NTTs would pay on the GPU"):
 * SEAL's forward negacyclic NTT as an exact int32 ONNX graph, in the four-step form of
 * TensorFHE and CROSS — two transforms as limb Gemms with a twiddle between:
 *
 *   X_k = Σ_j x_j ψ^((2k+1)j),  j = n2·j1 + j2,  k = k1 + n1·k2   (N = n1·n2)
 *   Y[k1][j2] = Σ_j1 ψ^((2k1+1)·n2·j1) · x[n2·j1 + j2]            (size-n1 transform, one Gemm)
 *   Z[k1][j2] = ψ^((2k1+1)·j2) · Y[k1][j2]                          (twiddles, elementwise)
 *   X[k1 + n1·k2] = Σ_j2 ψ^(2·n1·k2·j2) · Z[k1][j2]                (size-n2 transform, one Gemm)
 *
 * ψ is SEAL's: the smallest primitive 2N-th root of unity mod q; SEAL's output order is
 * bit-reversed (out[i] = X_bitrev(i)), done here by a final Gather. Each step ends in an
 * exact reduction (mod-reduce.ts). A limb Gemm sums ≤ n·m products of 11-bit limbs per
 * output, so n ≤ 2^31 / (m·(2^11 − 1)²) = 102 for 5 limbs: n1 = 32, n2 = 64 at N = 2048.
 *
 * Measured (docs/10-gpu.md): bit-identical to SEAL's NTT; ~190 nodes; 8.8 M int32 MACs per
 * polynomial at N = 2048 against SEAL's ~11 k butterflies.
 */
import { exactOps, type LinearOp } from './exact-int.ts'
import { limbCount, limbsOf, primeBits } from './limbs.ts'
import { digitsToWords, reduceMod, wordsToDigits } from './mod-reduce.ts'
import { createOnnxGraph } from './onnx-graph.ts'

function powMod (b: bigint, e: bigint, q: bigint): bigint {
  let r = 1n
  b %= q
  while (e > 0n) {
    if ((e & 1n) === 1n) r = (r * b) % q
    b = (b * b) % q
    e >>= 1n
  }
  return r
}

/** SEAL's ψ: the smallest primitive 2N-th root of unity mod q (try_minimal_primitive_root). */
export function minimalPrimitiveRoot (q: bigint, polyDegree: number): bigint {
  const order = BigInt(2 * polyDegree)
  let g = 2n
  while (powMod(powMod(g, (q - 1n) / order, q), order / 2n, q) !== q - 1n) g++
  const root = powMod(g, (q - 1n) / order, q)
  // The primitive 2N-th roots are root^odd; walk them all for the smallest.
  let best = root
  let cur = root
  const step = (root * root) % q
  for (let i = 0; i < polyDegree; i++) {
    if (cur < best) best = cur
    cur = (cur * step) % q
  }
  return best
}

const bitrev = (x: number, bits: number): number => {
  let r = 0
  for (let i = 0; i < bits; i++) r |= ((x >> i) & 1) << (bits - 1 - i)
  return r
}

/**
 * The graph: input `x` int32 (polys·N, 2) coefficient words, output `y` int32
 * (polys, N, 2) NTT words in SEAL's order.
 */
export function buildNttGraph (q: bigint, polyDegree: number, polys: number, n1: number, linearOp: LinearOp): { model: Uint8Array, nodes: number, intMacsPerPoly: number } {
  const m = limbCount(q)
  const n2 = polyDegree / n1
  const psi = minimalPrimitiveRoot(q, polyDegree)
  const g = createOnnxGraph('cerberus-ntt')
  const ops = exactOps(g, linearOp)
  const pos = Array.from({ length: 2 * m - 1 }, (_, s) => s)
  // Rows (k, limb a) × columns (j, position s) of Σ_k c[j][k]·x_k over limbs.
  const limbMatrix = (c: bigint[][]): bigint[][] => {
    const out: bigint[][] = []
    for (let k = 0; k < c[0].length; k++) {
      for (let a = 0; a < m; a++) {
        const row = new Array<bigint>(c.length * (2 * m - 1)).fill(0n)
        c.forEach((cj, j) => { limbsOf(cj[k], m).forEach((l, b) => { row[j * (2 * m - 1) + a + b] = l }) })
        out.push(row)
      }
    }
    return out
  }
  const x = ops.input('x', [polys * polyDegree, 2], [-(2n ** 31n), 2n ** 31n - 1n])
  const xd = wordsToDigits(ops, x, primeBits(q), m)
  const xt = ops.reshape(ops.transpose(ops.reshape(xd, [polys, n1, n2, m]), [0, 2, 1, 3]), [polys * n2, n1 * m])
  const a = Array.from({ length: n1 }, (_, k1) => Array.from({ length: n1 }, (_, j1) => powMod(psi, BigInt((2 * k1 + 1) * n2 * j1), q)))
  const y = ops.reshape(ops.linear(xt, limbMatrix(a)), [polys * n2 * n1, 2 * m - 1])
  const yd = reduceMod(g, ops, { v: y, pos }, q, m).digits // rows (p, j2, k1)
  const tw = new Int32Array(n2 * n1 * m)
  for (let j2 = 0; j2 < n2; j2++) for (let k1 = 0; k1 < n1; k1++) limbsOf(powMod(psi, BigInt((2 * k1 + 1) * j2), q), m).forEach((l, b) => { tw[(j2 * n1 + k1) * m + b] = Number(l) })
  const twiddles = ops.assume(ops.constant([1, n2 * n1, 1, m], tw), [0n, 2047n], 'limbs of residues < q')
  const pair = Array.from({ length: m * m }, (_, ab) => pos.map(s => (Math.floor(ab / m) + (ab % m) === s ? 1n : 0n)))
  const z = ops.linear(ops.reshape(ops.mul(ops.reshape(yd, [polys, n2 * n1, m, 1]), twiddles), [polys * n2 * n1, m * m]), pair)
  const zd = reduceMod(g, ops, { v: z, pos }, q, m).digits
  const zt = ops.reshape(ops.transpose(ops.reshape(zd, [polys, n2, n1, m]), [0, 2, 1, 3]), [polys * n1, n2 * m])
  const b = Array.from({ length: n2 }, (_, k2) => Array.from({ length: n2 }, (_, j2) => powMod(psi, BigInt(2 * n1 * k2 * j2), q)))
  const out = ops.reshape(ops.linear(zt, limbMatrix(b)), [polys * n1 * n2, 2 * m - 1])
  const words = ops.reshape(digitsToWords(ops, reduceMod(g, ops, { v: out, pos }, q, m).digits, m), [polys, polyDegree, 2])
  const logN = Math.log2(polyDegree)
  // Rows are (k1, k2); SEAL's slot i holds X at k = bitrev(i).
  const perm = Array.from({ length: polyDegree }, (_, i) => { const k = bitrev(i, logN); return (k % n1) * n2 + Math.floor(k / n1) })
  g.output(ops.gather(words, 1, perm).t, 'y')
  const nodes = Object.values(g.opCounts()).reduce((s, c) => s + c, 0)
  return { model: g.encode(), nodes, intMacsPerPoly: n2 * n1 * m * n1 * (2 * m - 1) + n1 * n2 * m * n2 * (2 * m - 1) }
}
