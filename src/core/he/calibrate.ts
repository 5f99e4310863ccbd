/**
 * Measuring the planner's cost model in the current runtime: time real encrypted matvecs
 * of shapes chosen so that each cost term dominates one of them, and the kernel's
 * multiply-accumulate on its own, then solve for the per-operation costs.
 */
import { createMacKernel } from './kernel/mac-kernel.ts'
import { createHeMiner } from './miner.ts'
import { RING_PRESETS, type RingPreset } from './params.ts'
import { makePlan, type MatvecPlan } from './plan.ts'
import type { CostModel, RingCosts } from './planner.ts'
import type { Seal } from './seal.ts'
import { createHeUser } from './user.ts'

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}

function measure (seal: Seal, plan: MatvecPlan, reps: number): { enc: number, dec: number, miner: number } {
  const user = createHeUser(seal)
  const miner = createHeMiner(seal)
  const w = new Int8Array(plan.dOut * plan.dIn).fill(1)
  const x = new Int8Array(plan.dIn).fill(1)
  const m = miner.prepare(plan, w)
  const enc: number[] = []
  const dec: number[] = []
  const min: number[] = []
  for (let r = 0; r <= reps; r++) {
    const a = performance.now()
    const up = user.encryptInput(plan, x)
    const b = performance.now()
    const down = miner.compute(m, up)
    const c = performance.now()
    user.decryptResults(plan, down)
    const d = performance.now()
    if (r > 0) { enc.push(b - a); min.push(c - b); dec.push(d - c) }
  }
  m.delete()
  user.dispose()
  miner.dispose()
  return { enc: median(enc) * 1000, dec: median(dec) * 1000, miner: median(min) * 1000 }
}

/** µs for one ciphertext × plaintext product-accumulate (both polynomials) on the kernel. */
function kernelMacMicros (n: number): number {
  const k = createMacKernel()
  const bytes = 8 * n
  k.ensure(7 * bytes * 2)
  const runs: number[] = []
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now()
    for (let i = 0; i < 32; i++) k.mac2(0, bytes, 2 * bytes, 3 * bytes, 5 * bytes, n)
    runs.push((performance.now() - t0) * 1000 / 32)
  }
  return median(runs)
}

/** Measure the costs of one ring (µs per operation). */
export function calibrateRing (seal: Seal, preset: RingPreset, reps = 7): RingCosts {
  const n = preset.polyDegree
  const nI = 64
  const nO = n / nI
  // Shapes that separate the terms: many chunks / one block; one chunk / many blocks; and
  // one block holding N results (for the per-row decryption cost).
  const p1 = makePlan(nO, 32 * nI, preset, nI)
  const p2 = makePlan(32 * nO, nI, preset, nI)
  const p4 = makePlan(n, 1, preset, 1)
  const [r1, r2, r4] = [p1, p2, p4].map(p => measure(seal, p, reps))
  // The multiply-accumulate is timed on the kernel itself (steady, and too small a share
  // of a whole job to fit reliably); the per-input and per-block costs are then solved
  // from p1 (32 inputs, 1 block) and p2 (1 input, 32 blocks).
  const macProduct = kernelMacMicros(n)
  const y1 = r1.miner - p1.split.chunks * p1.split.blocks * macProduct
  const y2 = r2.miner - p2.split.chunks * p2.split.blocks * macProduct
  const [a, b, c, d] = [p1.split.chunks, p1.split.blocks, p2.split.chunks, p2.split.blocks]
  const loadInput = (y1 * d - b * y2) / (a * d - b * c)
  const finishBlock = (a * y2 - y1 * c) / (a * d - b * c)
  // dec(p2) = 32·D + 32·nO·R ; dec(p4) = D + N·R
  const [decryptBlock, decryptRow] = (() => {
    const a = [[p2.split.blocks, p2.dOut], [p4.split.blocks, p4.dOut]]
    const det = a[0][0] * a[1][1] - a[0][1] * a[1][0]
    return [(r2.dec * a[1][1] - a[0][1] * r4.dec) / det, (a[0][0] * r4.dec - r2.dec * a[1][0]) / det]
  })()
  const r = (v: number): number => Math.max(0.01, Math.round(v * 100) / 100)
  return { encryptChunk: r(r1.enc / p1.split.chunks), decryptBlock: r(decryptBlock), decryptRow: r(decryptRow), loadInput: r(loadInput), macProduct: r(macProduct), finishBlock: r(finishBlock) }
}

/** Measure the cost model for the secure ring sizes (a few seconds). */
export function calibrateCostModel (seal: Seal, reps = 5): CostModel {
  return { 2048: calibrateRing(seal, RING_PRESETS.n2048, reps), 4096: calibrateRing(seal, RING_PRESETS.n4096, reps), 8192: calibrateRing(seal, RING_PRESETS.n8192, reps) }
}
