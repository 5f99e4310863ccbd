/**
 * Measuring the planner's cost model in the current runtime: time real encrypted matvecs
 * of shapes chosen so that each cost term dominates one of them, and the kernel's
 * multiply-accumulate on its own, then solve for the per-operation costs.
 */
import { sealCall } from './errors.ts'
import { createMacKernel } from './kernel/mac-kernel.ts'
import { createHeMiner } from './miner.ts'
import type { PackedCosts } from './packed-planner.ts'
import { createContext, RING_PRESETS, type RingPreset } from './params.ts'
import { makePackedPlan, makePlan, type MatvecPlan } from './plan.ts'
import type { CostModel, RingCosts } from './planner.ts'
import { withScope, type Seal } from './seal.ts'
import { parseCiphertext, plaintextBytes } from './seal-bytes.ts'
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

function timed (reps: number, fn: () => void): number {
  fn()
  const runs: number[] = []
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now()
    fn()
    runs.push((performance.now() - t0) * 1000)
  }
  return median(runs)
}

/**
 * Measure the packed scheme's costs on a key-switching preset (µs per operation): SEAL's
 * key switch, NTT and tree-merge operations timed directly with throwaway keys, the kernel
 * product, and the user's encryption and decryption of a one-ciphertext job.
 */
export function calibratePacked (seal: Seal, preset: RingPreset = RING_PRESETS.n4096ks, reps = 15): PackedCosts {
  const n = preset.polyDegree
  const plan = makePackedPlan(n / 4, 64, preset, { nI: 64, orbitLevels: 0 })
  const user = createHeUser(seal)
  const t0 = performance.now()
  user.galoisKeys(plan)
  const keyGenMs = performance.now() - t0
  const x = new Int8Array(64).fill(3)
  const encrypt = timed(reps, () => { user.encryptInput(plan, x) })
  const miner = createHeMiner(seal)
  const w = new Int8Array((n / 4) * 64).fill(1)
  const matrix = miner.prepare(plan, w)
  const keys = miner.loadGaloisKeys(user.galoisKeys(plan), plan)
  const down = miner.compute(matrix, user.encryptInput(plan, x), keys)
  const decrypt = timed(reps, () => { user.decryptResults(plan, down) })
  matrix.delete()
  miner.dispose()
  user.dispose()
  const ctx = createContext(seal, plan.params)
  try {
    return withScope(scope => sealCall('calibrate the packed scheme', () => {
      const keygen = scope.own(new seal.KeyGenerator(ctx.context))
      const sk = scope.own(keygen.secretKey())
      const pk = scope.own(keygen.createPublicKey())
      const enc = scope.own(new seal.Encryptor(ctx.context, pk, sk))
      const gk = scope.own(new seal.GaloisKeys())
      withScope(inner => {
        const ser = inner.own(keygen.createGaloisKeysSerializableWithSteps(Int32Array.from([1])))
        gk.loadFromArray(ctx.context, ser.saveToArray(seal.ComprModeType.none))
      })
      const pt = scope.own(new seal.Plaintext())
      pt.loadFromArray(ctx.context, plaintextBytes(new Uint32Array(n).fill(1)))
      const ct = scope.own(new seal.Ciphertext())
      enc.encryptSymmetric(pt, ct)
      const out = scope.own(new seal.Ciphertext())
      // Element 3 (step 1): every key switch of the scheme costs the same; only the key differs.
      const keySwitch = timed(reps, () => { ctx.evaluator.applyGalois(ct, 3, gk, out) })
      const ntt = timed(reps, () => { out.assign(ct); ctx.evaluator.cipherTransformToNttInplace(out) }) - timed(reps, () => { out.assign(ct) })
      const mono = scope.own(new seal.Plaintext())
      const coeffs = new Uint32Array(n / 2 + 1)
      coeffs[n / 2] = 1
      mono.loadFromArray(ctx.context, plaintextBytes(coeffs))
      const u = scope.own(new seal.Ciphertext())
      const d = scope.own(new seal.Ciphertext())
      const merge = timed(reps, () => { ctx.evaluator.multiplyPlain(ct, mono, u); ctx.evaluator.sub(ct, u, d); ctx.evaluator.add(ct, u, out); ctx.evaluator.addInplace(out, d) })
      const bytes = ct.saveToArray(seal.ComprModeType.none) as Uint8Array
      const loadInput = timed(reps, () => { out.loadFromArray(ctx.context, bytes); out.saveToArray(seal.ComprModeType.none); out.loadFromArray(ctx.context, bytes) })
      const finish = timed(reps, () => { const f = parseCiphertext(out.saveToArray(seal.ComprModeType.none) as Uint8Array); let a = 0; for (let i = 0; i < 2 * n; i++) a += Math.round(f.words[i] * 1.5); if (a < 0) throw new Error('unreachable') })
      const r = (v: number): number => Math.max(0.01, Math.round(v * 100) / 100)
      return { encrypt: r(encrypt), decrypt: r(decrypt), loadInput: r(loadInput), keySwitch: r(keySwitch), ntt: r(ntt), macProduct: r(kernelMacMicros(n)), merge: r(merge), finish: r(finish), keyGenMs: Math.round(keyGenMs * 10) / 10 }
    }))
  } finally {
    ctx.delete()
  }
}

/** Measure the cost model for the secure ring sizes (a few seconds), the packed scheme's at N = 4096 included. */
export function calibrateCostModel (seal: Seal, reps = 5): CostModel {
  return { 2048: calibrateRing(seal, RING_PRESETS.n2048, reps), 4096: { ...calibrateRing(seal, RING_PRESETS.n4096, reps), packed: calibratePacked(seal) }, 8192: calibrateRing(seal, RING_PRESETS.n8192, reps) }
}
