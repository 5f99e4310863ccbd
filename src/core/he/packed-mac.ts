/**
 * The packed scheme's multiply-accumulate (packed-miner.ts does the rest): a prepared
 * packed matrix's place in its kernel's memory, and the MAC of its merged leaves —
 * Σ_(c, S) τ_S(x_(g,c)) ⊙ P_(S,c,col) per input group g and column col — in the WebAssembly
 * kernel or on an engine (mac-engine.ts). For an engine, one group's orbits are one MAC's
 * inputs (chunk·2^b + S, 2, N: contiguous in kernel memory already) and the group's
 * columns its blocks, so the same dense weights serve every group.
 */
import { HeJobError } from './errors.ts'
import type { LoadedMac, MacWeights } from './mac-engine.ts'
import type { HeContext } from './params.ts'
import { packedInfo, type MatvecPlan } from './plan.ts'
import type { MacKernel } from './kernel/mac-kernel.ts'

/** A packed matrix encoded for a plan and a block range. */
export interface PackedMatrix {
  readonly plan: MatvecPlan
  readonly blocks: readonly [number, number]
  readonly ctx: HeContext
  readonly kernel: MacKernel
  /** Offset of P_(S, c, col) at (S·chunks + c)·cols + col, −1 when all zero. */
  readonly pOff: Int32Array
  /** Merged leaves (of the prepared range) whose plaintexts are all zero. */
  readonly zero: Uint8Array
  /** 2^−k mod q as a constant vector at constOff + k·8N, k = 0…log2 N. */
  readonly constOff: number
  readonly orbitOff: number
  readonly accOff: number
  readonly outOff: number
  readonly groupRange: readonly [number, number]
  readonly barrett: { readonly mu: bigint, readonly shift: bigint, readonly fold: number }
  readonly heapBytes: number
  /** log2 σ of this matrix's input key-switch noise (checked against the plan's declared bound). */
  readonly noiseBits: number
}

/** out(2N) = in(2N words at `src`) · constant vector k, mod q, in the kernel. */
export function scaleInKernel (m: PackedMatrix, src: number, k: number, dst: number): void {
  const n = m.ctx.polyDegree
  const polyBytes = 8 * n
  const { kernel } = m
  new Uint8Array(kernel.memory.buffer, m.accOff, 4 * polyBytes).fill(0)
  kernel.mac2(src, src + polyBytes, m.constOff + k * polyBytes, m.accOff, m.accOff + 2 * polyBytes, n)
  kernel.reduce(m.accOff, dst, 2 * n, m.ctx.primes[0], m.barrett.mu, m.barrett.shift, 8)
}

/** The MAC step: merged leaf `block`'s reduced (acc0, acc1) NTT words, 2 × N residues. */
export type LeafWords = (block: number) => Uint32Array

/** The merged leaves' MAC in the WebAssembly kernel, over the orbits loadOrbits placed (the default, and the reference). */
export function kernelLeafWords (m: PackedMatrix): LeafWords {
  const L = packedInfo(m.plan).layout
  const { ctx, kernel } = m
  const n = ctx.polyDegree
  const polyBytes = 8 * n
  const orbitSize = 2 ** L.orbitLevels
  const q = ctx.primes[0]
  const { mu, shift, fold } = m.barrett
  return block => {
    const g = Math.floor(block / L.colsPerGroup)
    const col = block % L.colsPerGroup
    new Uint8Array(kernel.memory.buffer, m.accOff, 4 * polyBytes).fill(0)
    let count = 0
    for (let c = 0; c < L.chunks; c++) {
      const base = m.orbitOff + (((g - m.groupRange[0]) * L.chunks + c) * orbitSize) * 2 * polyBytes
      for (let s = 0; s < orbitSize; s++) {
        const w = m.pOff[(s * L.chunks + c) * L.colsPerGroup + col]
        if (w < 0) continue
        const x = base + s * 2 * polyBytes
        kernel.mac2(x, x + polyBytes, w, m.accOff, m.accOff + 2 * polyBytes, n)
        if (++count % fold === 0) kernel.reduce(m.accOff, m.accOff, 2 * n, q, mu, shift, 16)
      }
    }
    kernel.reduce(m.accOff, m.outOff, 2 * n, q, mu, shift, 8)
    return new Uint32Array(kernel.memory.buffer.slice(m.outOff, m.outOff + 2 * polyBytes))
  }
}

/**
 * The merged leaves' MAC on an engine: one MAC per input group of `groups`, whose orbits
 * are contiguous in kernel memory in exactly the engine's (chunk·2^b + S, 2, N) order; the
 * engine's blocks are the group's columns.
 */
export async function engineLeafWords (m: PackedMatrix, groups: readonly [number, number], mac: LoadedMac): Promise<LeafWords> {
  const L = packedInfo(m.plan).layout
  const n = m.ctx.polyDegree
  const words = L.chunks * 2 ** L.orbitLevels * 4 * n
  const out = new Map<number, Uint32Array>()
  for (let g = groups[0]; g < groups[1]; g++) {
    const start = m.orbitOff + (g - m.groupRange[0]) * words * 4
    const y = await mac.mac(new Uint32Array(m.kernel.memory.buffer.slice(start, start + words * 4)))
    if (y.length !== L.colsPerGroup * 4 * n) throw new HeJobError(`the MAC engine returned ${y.length} words, the matrix has ${L.colsPerGroup} columns × 2 × ${n} residues`)
    out.set(g, y)
  }
  return block => {
    const col = block % L.colsPerGroup
    return (out.get(Math.floor(block / L.colsPerGroup)) as Uint32Array).subarray(col * 4 * n, (col + 1) * 4 * n)
  }
}

/** A packed matrix's dense weights for an engine: per column, (chunk·2^b + S) polynomials, zeros where there is none. */
export function packedMacWeights (m: PackedMatrix): MacWeights {
  const L = packedInfo(m.plan).layout
  const n = m.ctx.polyDegree
  const orbitSize = 2 ** L.orbitLevels
  const chunks = L.chunks * orbitSize
  const weights = new Uint32Array(L.colsPerGroup * chunks * 2 * n)
  for (let col = 0; col < L.colsPerGroup; col++) {
    for (let c = 0; c < L.chunks; c++) {
      for (let s = 0; s < orbitSize; s++) {
        const off = m.pOff[(s * L.chunks + c) * L.colsPerGroup + col]
        if (off >= 0) weights.set(new Uint32Array(m.kernel.memory.buffer, off, 2 * n), ((col * L.chunks + c) * orbitSize + s) * 2 * n)
      }
    }
  }
  const [g0, g1] = m.groupRange
  return { layout: { q: m.ctx.primes[0], polyDegree: n, chunks, blocks: L.colsPerGroup }, weights, macsPerJob: g1 - g0 }
}
