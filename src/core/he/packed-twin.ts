/**
 * The plaintext twin of the packed matvec: the miner's whole algebra — input orbits,
 * merged plaintexts, the PackRLWEs tree with its automorphisms, partial trees for a block
 * range — on full polynomials mod t, without encryption. `matvecPackedTwin == matvecInt8`
 * is the layout's own test; the SEAL path is then held to the same results.
 *
 * Full negacyclic products cost O(N²): this twin is for the small rings of the tests.
 */
import { addAutomorphed, automorphism, levelElement } from './galois.ts'
import { columnLeaves, forEachOutput, mergeLeaves, mergeExponents, orbitElement, packPackedInput, packTree, treesOf, type PackedLayout } from './packed-layout.ts'

/** a·b mod t for 0 ≤ a, b < t < 2^31, exact in float64 (16-bit split). */
export function mulMod (a: number, b: number, t: number): number {
  const hi = (a * Math.floor(b / 65536)) % t
  return (hi * 65536 + a * (b % 65536)) % t
}

/** base^e mod t. */
export function powMod (base: number, e: number, t: number): number {
  let r = 1
  let x = base % t
  for (let k = e; k > 0; k = Math.floor(k / 2)) {
    if (k % 2 === 1) r = mulMod(r, x, t)
    x = mulMod(x, x, t)
  }
  return r
}

const centre = (v: number, t: number): number => {
  const r = v - t * Math.round(v / t)
  return r
}

/** out = a·b mod (X^N + 1, t), centred; |a·b| sums stay below 2^53 for the tests' sizes. */
function negacyclic (a: Float64Array, b: Int32Array, t: number, out: Float64Array): void {
  const n = a.length
  const acc = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const ai = a[i]
    if (ai === 0) continue
    for (let j = 0; j < n; j++) {
      const bj = b[j]
      if (bj === 0) continue
      const k = i + j
      if (k < n) acc[k] += ai * bj
      else acc[k - n] -= ai * bj
    }
  }
  for (let i = 0; i < n; i++) out[i] = centre(out[i] + centre(acc[i], t), t)
}

function shifted (f: Float64Array, h: number): Float64Array {
  const n = f.length
  const o = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    if (i + h < n) o[i + h] = f[i]
    else o[i + h - n] = -f[i]
  }
  return o
}

/**
 * y_k = W·x_k for the job's vectors, through blocks [first, end) of the layout (default
 * all): results of other blocks stay 0.
 */
export function matvecPackedTwin (L: PackedLayout, w: Int8Array, xs: readonly Int8Array[], t: number, range: readonly [number, number] = [0, L.blocks]): Int32Array[] {
  const n = L.polyDegree
  const orbitSize = 2 ** L.orbitLevels
  const coeffs = new Uint32Array(n)
  // Orbits: τ_S(x̂) for every input ciphertext (group, chunk) and subset S.
  const orbits: Float64Array[][] = []
  for (let g = 0; g < L.groups; g++) {
    for (let c = 0; c < L.chunks; c++) {
      packPackedInput(L, xs, g, c, t, coeffs)
      const x = Float64Array.from(coeffs, v => centre(v, t))
      const row: Float64Array[] = []
      for (let s = 0; s < orbitSize; s++) {
        const o = new Float64Array(n)
        addAutomorphed(x, automorphism(n, orbitElement(L, s)), 0, o)
        row.push(o)
      }
      orbits.push(row)
    }
  }
  const p = new Int32Array(n)
  const ys = Array.from({ length: L.batch }, () => new Int32Array(L.dOut))
  for (const part of treesOf(L, range[0], range[1])) {
    const slots: Array<Float64Array | null> = new Array(L.perTree).fill(null)
    for (let blk = part.first; blk < part.end; blk++) {
      const g = Math.floor(blk / L.colsPerGroup)
      const col = blk % L.colsPerGroup
      const merged = new Float64Array(n)
      for (let c = 0; c < L.chunks; c++) {
        const leaves = columnLeaves(L, w, c, col)
        for (let s = 0; s < orbitSize; s++) {
          if (mergeLeaves(L, leaves, s, p)) negacyclic(orbits[g * L.chunks + c][s], p, t, merged)
        }
      }
      slots[blk % L.perTree] = merged
    }
    const top = L.m + L.orbitLevels + L.treeLevels
    const root = packTree(slots, top, {
      shift: (odd, level) => shifted(odd, n >> level),
      merge: (even, odd, level) => {
        const u = shifted(odd, n >> level)
        const d = even.map((v, i) => v - u[i])
        const out = even.map((v, i) => v + u[i])
        addAutomorphed(d, automorphism(n, levelElement(n, level)), 0, out)
        return out.map(v => centre(v, t))
      }
    }) ?? new Float64Array(n)
    const e = mergeExponents(slots.map(s => s !== null))
    for (let blk = part.first; blk < part.end; blk++) {
      // The tree multiplied this leaf's results by 2^e and the orbit's trace by 2^b.
      const undo = powMod(powMod(2, L.orbitLevels + e[blk % L.perTree], t), t - 2, t)
      forEachOutput(L, blk, (pos, vec, rowIdx) => {
        const v = mulMod(((root[pos] % t) + t) % t, undo, t)
        ys[vec][rowIdx] = v > t / 2 ? v - t : v
      })
    }
  }
  return ys
}
