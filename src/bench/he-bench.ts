/**
 * The HE matvec benchmark, platform-neutral (runs in Node and in Chromium): for each
 * shape, user ms (encrypt + decrypt), miner ms, bytes each way, exactness, and — measured
 * in the same run — the plain float32 and int8 matvecs the encrypted one is compared to.
 * Single-threaded: user and miner run in the calling thread, one after the other.
 */
import { createHeMiner, createHeUser, measureNoiseBudget, planMatvec, NETWORKS, type CostModel, type NetworkProfile, type Seal } from '../core/he/index.ts'
import { prepareSealOnly } from '../core/he/index.ts'
import { matvecF32 } from '../core/model/index.ts'
import { matvecInt8 } from '../core/model/index.ts'

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
}

/** The whole report. */
export interface HeBenchReport {
  readonly runtime: 'node' | 'chromium'
  readonly network: string
  /** The cost model the plans were made with, when it was measured in this run. */
  readonly calibrated?: CostModel
  readonly shapes: HeBenchShape[]
}

/** The issue's shapes: [dOut, dIn]. */
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
  readonly onShape?: (s: HeBenchShape) => void
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
    }
    baseline?.delete()
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
      reps
    }
    shapes.push(shape)
    opts.onShape?.(shape)
  }
  return { runtime: opts.runtime, network: network.name, ...(opts.cost === undefined ? {} : { calibrated: opts.cost }), shapes }
}

/** A human-readable table of a report. */
export function formatHeBench (r: HeBenchReport): string {
  const kib = (b: number): string => `${(b / 1024).toFixed(0)} KiB`
  const ms = (x: number): string => x.toFixed(x < 10 ? 2 : 1)
  const lines = [
    `HE matvec benchmark — ${r.runtime}, one thread, plans for network "${r.network}"`,
    '',
    '| shape (out×in) | exact | user ms (enc+dec) | miner ms | total ms | plain f32 ms | int8 ms | total/f32 | up | down | N, t, n_i×n_o | noise left | predicted total | SEAL-only total, up/down | speed-up |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'
  ]
  for (const s of r.shapes) {
    lines.push(`| ${s.dOut}×${s.dIn} | ${s.exact ? 'yes' : '**NO**'} | ${ms(s.userMs)} (${ms(s.encryptMs)}+${ms(s.decryptMs)}) | ${ms(s.minerMs)} | ${ms(s.totalMs)} | ${s.plainF32Ms.toFixed(3)} | ${s.plainInt8Ms.toFixed(3)} | ${s.ratio.toFixed(0)}× | ${kib(s.bytesUp)} | ${kib(s.bytesDown)} | ${s.params.polyDegree}, 2^${s.params.plainModulusBits}, ${s.params.nI}×${s.params.nO} | ${s.params.noiseBudgetBits} bits | ${ms(s.predicted.totalMs)} | ${s.sealOnly === undefined ? '—' : `${ms(s.sealOnly.totalMs)}, ${kib(s.sealOnly.bytesUp)}/${kib(s.sealOnly.bytesDown)}`} | ${s.sealOnly === undefined ? '—' : `${s.sealOnly.speedup.toFixed(2)}×`} |`)
  }
  return lines.join('\n') + '\n'
}
