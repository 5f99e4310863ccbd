/**
 * Seeded jobs for the GPU self-test, the tests and the benchmark: weights and inputs in the
 * kernel's layout (mac-graph.ts, wasm-mac.ts), residues < q with the extremes mixed in —
 * q − 1 (the largest limb products and carries), 0, 1 and q − 2 — so a GPU that rounds,
 * overflows or drops a carry anywhere differs from the WebAssembly kernel.
 */
import { prng } from '../prng.ts'
import type { MacShape } from './mac-graph.ts'

/** How residues are drawn. */
export type JobFill = 'mixed' | 'extreme' | 'random'

/** Weights (blocks × chunks × N) and inputs (chunks × 2 × N) as (lo, hi) words. */
export interface KnownJob {
  readonly weights: Uint32Array
  readonly inputs: Uint32Array
}

/** `count` residues < q: all q − 1 ('extreme'), uniform ('random'), or every 4th an extreme ('mixed'). */
export function residues (q: bigint, count: number, fill: JobFill, rand: () => number): Uint32Array {
  const out = new Uint32Array(2 * count)
  const qHi = Number(q >> 32n)
  const qLo = Number(q & 0xffffffffn)
  const extremes = [q - 1n, 0n, 1n, q - 2n]
  for (let i = 0; i < count; i++) {
    if (fill === 'extreme' || (fill === 'mixed' && i % 4 === 0)) {
      const v = fill === 'extreme' ? q - 1n : extremes[(i / 4) % 4]
      out[2 * i] = Number(v & 0xffffffffn)
      out[2 * i + 1] = Number(v >> 32n)
      continue
    }
    // Uniform on [0, q): draw (hi ≤ qHi, lo) and redraw the few pairs at or above q.
    let hi: number
    let lo: number
    do {
      hi = Math.floor(rand() * (qHi + 1))
      lo = Math.floor(rand() * 2 ** 32)
    } while (hi === qHi && lo >= qLo)
    out[2 * i] = lo
    out[2 * i + 1] = hi
  }
  return out
}

/** The job for `shape` from `seed`. */
export function knownJob (shape: MacShape, seed: number, fill: JobFill = 'mixed'): KnownJob {
  const rand = prng(seed)
  return {
    weights: residues(shape.q, shape.blocks * shape.chunks * shape.polyDegree, fill, rand),
    inputs: residues(shape.q, shape.chunks * 2 * shape.polyDegree, fill, rand)
  }
}
