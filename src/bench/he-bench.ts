/**
 * The HE matvec benchmark, platform-neutral (runs in Node and in Chromium): for each
 * shape, user ms (encrypt + decrypt), miner ms, bytes each way, exactness, and — measured
 * in the same run — the plain float32 and int8 matvecs the encrypted one is compared to;
 * beside each coefficient row, the packed scheme's row (keys, one dense input, packed
 * results), its jobs interleaved with the coefficient ones so their ratios share the load.
 * Single-threaded: user and miner run in the calling thread, one after the other.
 */
import { createHeMiner, createHeUser, measureNoiseBudget, planMatvec, predictPlan, prepareSealOnly, NETWORKS, type CostModel, type MatvecPlan, type NetworkProfile, type Seal } from '../core/he/index.ts'
import { matvecF32, matvecInt8 } from '../core/model/index.ts'

/** One benchmarked shape. */
export interface HeBenchShape {
  readonly dOut: number
  readonly dIn: number
  readonly exact: boolean
  readonly userMs: number
  readonly encryptMs: number
  readonly decryptMs: number
  readonly minerMs: number
  readonly totalMs: number
  readonly plainF32Ms: number
  readonly plainInt8Ms: number
  /** totalMs / plainF32Ms */
  readonly ratio: number
  readonly bytesUp: number
  readonly bytesDown: number
  /** Miner's one-time encoding of the matrix. */
  readonly prepareMs: number
  readonly params: {
    readonly preset: string
    readonly polyDegree: number
    readonly coeffModulusBits: readonly number[]
    readonly plainModulusBits: number
    readonly nI: number
    readonly nO: number
    readonly chunks: number
    readonly blocks: number
    readonly resultBits: number
    readonly noiseBudgetBits: number
  }
  readonly predicted: { readonly userMs: number, readonly minerMs: number, readonly totalMs: number, readonly bytesUp: number, readonly bytesDown: number }
  /**
   * The same job done with SEAL alone, as the pre-project probe did (SEAL's multiply/add,
   * full ciphertexts down, SEAL decryption), interleaved rep by rep with ours. Absent for
   * shapes where it would take too long (> 10^7 weights).
   */
  readonly sealOnly?: { readonly userMs: number, readonly minerMs: number, readonly totalMs: number, readonly bytesUp: number, readonly bytesDown: number, readonly exact: boolean, readonly speedup: number }
  readonly reps: number
  /** The packed scheme on the same shape, data and network, jobs interleaved with the coefficient ones. */
  readonly packed?: HeBenchPacked
}

/** One packed row. */
export interface HeBenchPacked {
  readonly exact: boolean
  readonly userMs: number
  readonly encryptMs: number
  readonly decryptMs: number
  readonly minerMs: number
  readonly totalMs: number
  readonly bytesUp: number
  readonly bytesDown: number
  /** The Galois key set, sent once per session and parameter set. */
  readonly galoisKeyBytes: number
  /** The user's one-time key generation. */
  readonly keyGenMs: number
  readonly prepareMs: number
  readonly keySwitches: number
  readonly params: { readonly preset: string, readonly polyDegree: number, readonly plainModulus: number, readonly nI: number, readonly orbitLevels: number, readonly treeLevels: number, readonly vectors: number, readonly chunks: number, readonly blocks: number, readonly trees: number, readonly c0Bits: number, readonly c1Bits: number, readonly marginBits: number, readonly heMarginBits: number }
  readonly predicted: { readonly userMs: number, readonly minerMs: number, readonly totalMs: number, readonly bytesUp: number, readonly bytesDown: number }
  /** packed ÷ coefficient, same run. */
  readonly vsCoeff: { readonly bytes: number, readonly minerMs: number, readonly userMs: number }
}

/** The 768-dim × 12-layer shape (stories110M's), per token, from the rows of its four shapes. */
export interface HeBenchPerToken {
  readonly layers: number
  readonly coeff: { readonly bytes: number, readonly minerMs: number, readonly userMs: number }
  readonly packed: { readonly bytes: number, readonly minerMs: number, readonly userMs: number, readonly galoisKeyBytes: number }
}

/** The whole report. */
export interface HeBenchReport {
  readonly runtime: 'node' | 'chromium'
  readonly network: string
  /** The cost model the plans were made with, when it was measured in this run. */
  readonly calibrated?: CostModel
  readonly shapes: HeBenchShape[]
  /** Present when the report holds the four shapes of a 768-dim layer. */
  readonly perToken?: HeBenchPerToken
}

/** Per layer of a 768-dim model: q|k|v fused, o, w1|w3 fused, down (the classifier runs locally). */
export const LAYER_768: ReadonlyArray<readonly [number, number]> = [[2304, 768], [768, 768], [4096, 768], [768, 2048]]

/** The shapes: [dOut, dIn]. */
export const DEFAULT_SHAPES: ReadonlyArray<readonly [number, number]> = [[64, 64], [768, 768], [3072, 768], [768, 3072], [4096, 4096]]

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}

// Deterministic int8 data (LCG), ±127.
function data (n: number, seed: number): Int8Array {
  let s = seed >>> 0
  const out = new Int8Array(n)
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    out[i] = ((s >>> 8) % 255) - 127
  }
  return out
}

function timeMedian (fn: () => void, minMs: number): number {
  fn()
  const times: number[] = []
  const until = performance.now() + minMs
  while (times.length < 5 || (performance.now() < until && times.length < 1000)) {
    const t0 = performance.now()
    fn()
    times.push(performance.now() - t0)
  }
  return median(times)
}

/** Options of {@link runHeBench}. */
export interface HeBenchOptions {
  readonly shapes?: ReadonlyArray<readonly [number, number]>
  readonly network?: NetworkProfile
  /** Timed repetitions per shape (default 5; 2 for shapes above 10^7 weights). */
  readonly reps?: number
  readonly runtime: 'node' | 'chromium'
  /** The planner's cost model (default: the built-in measurement). */
  readonly cost?: CostModel
  /** Which schemes to run (default both: a packed row beside each coefficient row). */
  readonly schemes?: ReadonlyArray<'coeff' | 'packed'>
  readonly onShape?: (s: HeBenchShape) => void
}

/** A packed job of the bench: user, miner and keys for one plan. */
interface PackedRun {
  readonly plan: MatvecPlan
  readonly run: () => { y: Int32Array, encMs: number, minerMs: number, decMs: number, bytesUp: number, bytesDown: number }
  readonly keyGenMs: number
  readonly keyBytes: number
  readonly prepareMs: number
  readonly delete: () => void
}

function preparePacked (seal: Seal, w: Int8Array, dOut: number, dIn: number, x: Int8Array, network: NetworkProfile, cost?: CostModel): PackedRun {
  const { plan } = planMatvec(dOut, dIn, { scheme: 'packed', network, cost, weights: w })
  const user = createHeUser(seal)
  const miner = createHeMiner(seal)
  const t0 = performance.now()
  const keyBytes = user.galoisKeys(plan)
  const keyGenMs = performance.now() - t0
  const keys = miner.loadGaloisKeys(keyBytes, plan)
  const t1 = performance.now()
  const matrix = miner.prepare(plan, w)
  const prepareMs = performance.now() - t1
  return {
    plan,
    keyGenMs,
    keyBytes: keyBytes.length,
    prepareMs,
    run () {
      const a = performance.now()
      const up = user.encryptInput(plan, x)
      const b = performance.now()
      const down = miner.compute(matrix, up, keys)
      const c = performance.now()
      const y = user.decryptResults(plan, down)
      const d = performance.now()
      return { y, encMs: b - a, minerMs: c - b, decMs: d - c, bytesUp: up.reduce((s, u) => s + u.byteLength, 0), bytesDown: down.reduce((s, u) => s + u.byteLength, 0) }
    },
    delete () {
      matrix.delete()
      user.dispose()
      miner.dispose()
    }
  }
}

/** Run the benchmark. */
export function runHeBench (seal: Seal, opts: HeBenchOptions): HeBenchReport {
  const network = opts.network ?? NETWORKS.lan
  const shapes: HeBenchShape[] = []
  for (const [dOut, dIn] of opts.shapes ?? DEFAULT_SHAPES) {
    const { plan, predicted } = planMatvec(dOut, dIn, { network, cost: opts.cost })
    const w = data(dOut * dIn, dOut * 31 + dIn)
    const x = data(dIn, 7)
    const expected = new Int32Array(dOut)
    matvecInt8(w, dOut, dIn, x, expected)
    const wf = Float32Array.from(w)
    const xf = Float32Array.from(x)
    const yf = new Float32Array(dOut)
    const plainF32Ms = timeMedian(() => { matvecF32(wf, 0, dOut, dIn, xf, yf) }, 300)
    const acc = new Int32Array(dOut)
    const plainInt8Ms = timeMedian(() => { matvecInt8(w, dOut, dIn, x, acc) }, 300)

    const user = createHeUser(seal)
    const miner = createHeMiner(seal)
    const t0 = performance.now()
    const matrix = miner.prepare(plan, w)
    const prepareMs = performance.now() - t0
    const reps = opts.reps ?? (dOut * dIn > 1e7 ? 2 : 5)
    const enc: number[] = []
    const dec: number[] = []
    const min: number[] = []
    const baseline = dOut * dIn <= 1e7 ? prepareSealOnly(seal, plan, w) : undefined
    const packed = (opts.schemes ?? ['coeff', 'packed']).includes('packed') ? preparePacked(seal, w, dOut, dIn, x, network, opts.cost) : undefined
    const pk = { enc: [] as number[], min: [] as number[], dec: [] as number[], exact: true, up: 0, down: 0 }
    const bUser: number[] = []
    const bMiner: number[] = []
    let bExact = true
    let bBytes = [0, 0]
    let exact = true
    let bytesUp = 0
    let bytesDown = 0
    for (let r = 0; r <= reps; r++) { // r = 0 warms up
      const a = performance.now()
      const up = user.encryptInput(plan, x)
      const b = performance.now()
      const down = miner.compute(matrix, up)
      const c = performance.now()
      const y = user.decryptResults(plan, down)
      const d = performance.now()
      if (r > 0) {
        enc.push(b - a)
        min.push(c - b)
        dec.push(d - c)
      }
      exact &&= y.every((v, i) => v === expected[i])
      bytesUp = up.reduce((s, u) => s + u.byteLength, 0)
      bytesDown = down.reduce((s, u) => s + u.byteLength, 0)
      if (baseline !== undefined) {
        const b = baseline.run(x)
        if (r > 0) { bUser.push(b.userMs); bMiner.push(b.minerMs) }
        bExact &&= b.y.every((v, i) => v === expected[i])
        bBytes = [b.bytesUp, b.bytesDown]
      }
      if (packed !== undefined) {
        const p = packed.run()
        if (r > 0) { pk.enc.push(p.encMs); pk.min.push(p.minerMs); pk.dec.push(p.decMs) }
        pk.exact &&= p.y.every((v, i) => v === expected[i])
        pk.up = p.bytesUp
        pk.down = p.bytesDown
      }
    }
    baseline?.delete()
    packed?.delete()
    matrix.delete()
    user.dispose()
    miner.dispose()
    const encryptMs = median(enc)
    const decryptMs = median(dec)
    const minerMs = median(min)
    const userMs = encryptMs + decryptMs
    const totalMs = userMs + minerMs
    const s = plan.split
    const shape: HeBenchShape = {
      dOut,
      dIn,
      exact,
      userMs,
      encryptMs,
      decryptMs,
      minerMs,
      totalMs,
      plainF32Ms,
      plainInt8Ms,
      ratio: totalMs / plainF32Ms,
      bytesUp,
      bytesDown,
      prepareMs,
      params: {
        preset: plan.params.preset.name,
        polyDegree: s.polyDegree,
        coeffModulusBits: plan.params.preset.coeffBits,
        plainModulusBits: plan.params.plainBits,
        nI: s.nI,
        nO: s.nO,
        chunks: s.chunks,
        blocks: s.blocks,
        resultBits: plan.resultBits,
        noiseBudgetBits: measureNoiseBudget(seal, plan)
      },
      predicted: { userMs: predicted.userMs, minerMs: predicted.minerMs, totalMs: predicted.userMs + predicted.minerMs, bytesUp: predicted.bytesUp, bytesDown: predicted.bytesDown },
      ...(baseline === undefined
        ? {}
        : { sealOnly: { userMs: median(bUser), minerMs: median(bMiner), totalMs: median(bUser) + median(bMiner), bytesUp: bBytes[0], bytesDown: bBytes[1], exact: bExact, speedup: (median(bUser) + median(bMiner)) / totalMs } }),
      reps,
      ...(packed === undefined ? {} : { packed: packedRow(packed, pk, network, opts.cost, { userMs, minerMs, bytes: bytesUp + bytesDown }) })
    }
    shapes.push(shape)
    opts.onShape?.(shape)
  }
  const perToken = perTokenTotals(shapes)
  return { runtime: opts.runtime, network: network.name, ...(opts.cost === undefined ? {} : { calibrated: opts.cost }), shapes, ...(perToken === undefined ? {} : { perToken }) }
}

function packedRow (p: PackedRun, m: { enc: number[], min: number[], dec: number[], exact: boolean, up: number, down: number }, network: NetworkProfile, cost: CostModel | undefined, coeff: { userMs: number, minerMs: number, bytes: number }): HeBenchPacked {
  const info = p.plan.packed
  if (info === undefined) throw new Error('not a packed plan')
  const L = info.layout
  const pred = predictPlan(p.plan, network, cost)
  const [encryptMs, minerMs, decryptMs] = [median(m.enc), median(m.min), median(m.dec)]
  const userMs = encryptMs + decryptMs
  return {
    exact: m.exact,
    userMs,
    encryptMs,
    decryptMs,
    minerMs,
    totalMs: userMs + minerMs,
    bytesUp: m.up,
    bytesDown: m.down,
    galoisKeyBytes: p.keyBytes,
    keyGenMs: p.keyGenMs,
    prepareMs: p.prepareMs,
    keySwitches: pred.keySwitches,
    params: { preset: p.plan.params.preset.name, polyDegree: L.polyDegree, plainModulus: p.plan.params.plainModulus ?? 0, nI: L.nI, orbitLevels: L.orbitLevels, treeLevels: L.treeLevels, vectors: L.vectors, chunks: L.chunks, blocks: L.blocks, trees: L.trees, c0Bits: info.widths.c0Bits, c1Bits: info.widths.c1Bits, marginBits: info.widths.marginBits, heMarginBits: info.noise.heMarginBits },
    predicted: { userMs: pred.userMs, minerMs: pred.minerMs, totalMs: pred.userMs + pred.minerMs, bytesUp: pred.bytesUp, bytesDown: pred.bytesDown },
    vsCoeff: { bytes: (m.up + m.down) / coeff.bytes, minerMs: minerMs / coeff.minerMs, userMs: userMs / coeff.userMs }
  }
}

/** Per-token totals of a 768-dim × 12-layer model, when the report holds its four layer shapes. */
export function perTokenTotals (shapes: readonly HeBenchShape[], layers = 12): HeBenchPerToken | undefined {
  const rows = LAYER_768.map(([o, i]) => shapes.find(s => s.dOut === o && s.dIn === i))
  if (rows.some(r => r?.packed === undefined)) return undefined
  const sum = (f: (s: HeBenchShape) => number): number => layers * rows.reduce((a, r) => a + (r === undefined ? 0 : f(r)), 0)
  const keyBytes = new Map<number, number>()
  for (const r of rows) if (r?.packed !== undefined) keyBytes.set(r.packed.params.plainModulus, r.packed.galoisKeyBytes)
  return {
    layers,
    coeff: { bytes: sum(s => s.bytesUp + s.bytesDown), minerMs: sum(s => s.minerMs), userMs: sum(s => s.userMs) },
    packed: { bytes: sum(s => (s.packed?.bytesUp ?? 0) + (s.packed?.bytesDown ?? 0)), minerMs: sum(s => s.packed?.minerMs ?? 0), userMs: sum(s => s.packed?.userMs ?? 0), galoisKeyBytes: [...keyBytes.values()].reduce((a, b) => a + b, 0) }
  }
}

/** A human-readable table of a report. */
