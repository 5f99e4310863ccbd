/**
 * `bench gpu`, platform-neutral: for each shape of the 768-dim model's jobs (N = 2048,
 * today's 54-bit prime, the planner's chunks × blocks), the miner's multiply-accumulate
 * on the WebAssembly kernel (the baseline, one thread) and on each onnxruntime backend
 * the caller brings — WebGPU, and onnxruntime's CPU or wasm EP — in the same run: ms per
 * job, modular MACs per second, exact (every word equal to the kernel's), adapter.
 *
 * On a software adapter (SwiftShader) the WebGPU numbers prove correctness only; the
 * report says so.
 */
import { knownJob } from '../core/gpu/index.ts'
import type { MacShape } from '../core/gpu/index.ts'
import { nttPrime } from '../core/gpu/index.ts'
import { createWasmMac } from '../core/gpu/index.ts'
import { planMatvec } from '../core/he/index.ts'
import type { GpuBackend, GpuMac } from '../gpu/mac-runner.ts'

/** The 768-dim model's matrices: attention (768×768), fused QKV (2304×768), FFN up (4096×768) and down (768×2048). */
export const GPU_BENCH_SHAPES: ReadonlyArray<readonly [number, number]> = [[768, 768], [2304, 768], [4096, 768], [768, 2048]]

/** An onnxruntime backend to measure. */
export interface GpuBenchBackend {
  readonly backend: GpuBackend
  create: (shape: MacShape) => GpuMac | Promise<GpuMac>
}

/** Options of {@link runGpuBench}. */
export interface GpuBenchOptions {
  readonly runtime: 'node' | 'chromium'
  /** The WebGPU adapter's name, or why there is none. */
  readonly adapter: string
  /** True for a software adapter: its timings prove correctness only. */
  readonly softwareAdapter: boolean
  readonly backends: readonly GpuBenchBackend[]
  readonly shapes?: ReadonlyArray<readonly [number, number]>
  /** Timed runs per backend after the first (default 3; 0 times the first run alone, for slow adapters). */
  readonly reps?: number
  readonly onShape?: (s: GpuBenchShape) => void
}

/** One backend on one shape. */
export interface GpuBenchRun {
  readonly backend: GpuBackend
  readonly exact: boolean
  /** Graph build and session creation (the weights' upload). */
  readonly uploadMs: number
  /** The first job (shader compilation and first-use allocations included). */
  readonly firstMs: number
  /** Median of the timed jobs (the first job's time when reps = 0). */
  readonly ms: number
  readonly macsPerSecond: number
  /** wasmMs / ms */
  readonly speedup: number
  readonly error?: string
}

/** One shape. */
export interface GpuBenchShape {
  readonly dOut: number
  readonly dIn: number
  readonly polyDegree: number
  readonly chunks: number
  readonly blocks: number
  /** Modular multiply-accumulates per job: blocks × chunks × 2 polys × N. */
  readonly macs: number
  /** Every backend that ran gave the kernel's words. */
  readonly exact: boolean
  readonly wasmMs: number
  readonly wasmMacsPerSecond: number
  /** The WebGPU backend's median ms, null when WebGPU did not run. */
  readonly webgpuMs: number | null
  readonly runs: readonly GpuBenchRun[]
}

/** The whole report. */
export interface GpuBenchReport {
  readonly runtime: 'node' | 'chromium'
  readonly adapter: string
  readonly softwareAdapter: boolean
  readonly note: string
  readonly prime: string
  readonly reps: number
  readonly shapes: GpuBenchShape[]
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function timeBackend (b: GpuBenchBackend, shape: MacShape, job: ReturnType<typeof knownJob>, want: Uint32Array, wasmMs: number, macs: number, reps: number): Promise<GpuBenchRun> {
  let gpu: GpuMac | undefined
  try {
    gpu = await b.create(shape)
    const t0 = performance.now()
    await gpu.upload(job.weights)
    const uploadMs = performance.now() - t0
    const t1 = performance.now()
    const got = await gpu.mac(job.inputs)
    const firstMs = performance.now() - t1
    const exact = got.length === want.length && got.every((v, i) => v === want[i])
    const times: number[] = []
    for (let r = 0; r < reps; r++) {
      const t = performance.now()
      await gpu.mac(job.inputs)
      times.push(performance.now() - t)
    }
    const ms = reps === 0 ? firstMs : median(times)
    return { backend: b.backend, exact, uploadMs, firstMs, ms, macsPerSecond: macs / (ms / 1000), speedup: wasmMs / ms }
  } catch (err) {
    return { backend: b.backend, exact: false, uploadMs: NaN, firstMs: NaN, ms: NaN, macsPerSecond: 0, speedup: 0, error: err instanceof Error ? err.message : String(err) }
  } finally {
    await gpu?.dispose().catch(() => undefined)
  }
}

/** Run the benchmark. */
export async function runGpuBench (opts: GpuBenchOptions): Promise<GpuBenchReport> {
  const reps = opts.reps ?? 3
  const q = nttPrime(54, 2048)
  const shapes: GpuBenchShape[] = []
  for (const [dOut, dIn] of opts.shapes ?? GPU_BENCH_SHAPES) {
    const { split } = planMatvec(dOut, dIn).plan
    const shape: MacShape = { q, polyDegree: split.polyDegree, chunks: split.chunks, blocks: split.blocks }
    const macs = shape.blocks * shape.chunks * 2 * shape.polyDegree
    const job = knownJob(shape, dOut * 7 + dIn, 'random')
    const kernel = createWasmMac(shape, job.weights)
    const want = kernel.mac(job.inputs)
    const wasmTimes: number[] = []
    for (let r = 0; r < Math.max(3, reps); r++) {
      const t = performance.now()
      kernel.mac(job.inputs)
      wasmTimes.push(performance.now() - t)
    }
    const wasmMs = median(wasmTimes)
    const runs: GpuBenchRun[] = []
    for (const b of opts.backends) runs.push(await timeBackend(b, shape, job, want, wasmMs, macs, reps))
    const webgpu = runs.find(r => r.backend === 'webgpu' && r.error === undefined)
    const s: GpuBenchShape = {
      dOut,
      dIn,
      polyDegree: shape.polyDegree,
      chunks: shape.chunks,
      blocks: shape.blocks,
      macs,
      exact: runs.length > 0 && runs.every(r => r.exact),
      wasmMs,
      wasmMacsPerSecond: macs / (wasmMs / 1000),
      webgpuMs: webgpu?.ms ?? null,
      runs
    }
    shapes.push(s)
    opts.onShape?.(s)
  }
  const note = opts.softwareAdapter
    ? 'software WebGPU adapter (SwiftShader): these timings prove correctness only, not GPU speed'
    : opts.backends.some(b => b.backend === 'webgpu') ? 'hardware adapter' : 'no WebGPU adapter: the CPU backends prove correctness only'
  return { runtime: opts.runtime, adapter: opts.adapter, softwareAdapter: opts.softwareAdapter, note, prime: q.toString(), reps, shapes }
}

const fmt = (ms: number): string => (Number.isFinite(ms) ? ms.toFixed(ms < 10 ? 2 : 1) : '–')
const rate = (r: number): string => (r > 0 ? `${(r / 1e6).toFixed(1)} M/s` : '–')

/** The report as a table, ratios against the WebAssembly kernel ("kernel") of the same run. */
export function formatGpuBench (r: GpuBenchReport): string {
  const backends = [...new Set(r.shapes.flatMap(s => s.runs.map(x => x.backend)))]
  // The kernel is WebAssembly too: onnxruntime's own backends are named ort-*.
  const label = (b: GpuBackend): string => (b === 'webgpu' ? 'webgpu' : `ort-${b}`)
  const head = ['shape', 'N', 'chunks×blocks', 'MACs', 'kernel ms', 'kernel MAC/s', ...backends.flatMap(b => [`${label(b)} ms`, `${label(b)} ×kernel`, `${label(b)} exact`])]
  const rows = r.shapes.map(s => [
    `${s.dOut}×${s.dIn}`, String(s.polyDegree), `${s.chunks}×${s.blocks}`, `${(s.macs / 1e6).toFixed(2)} M`, fmt(s.wasmMs), rate(s.wasmMacsPerSecond),
    ...backends.flatMap(b => {
      const x = s.runs.find(run => run.backend === b)
      if (x === undefined || x.error !== undefined) return ['error', '–', 'no']
      return [fmt(x.ms), `${x.speedup.toFixed(2)}×`, x.exact ? 'yes' : 'NO']
    })
  ])
  const errors = r.shapes.flatMap(s => s.runs.filter(x => x.error !== undefined).map(x => `  ${s.dOut}×${s.dIn} ${x.backend}: ${x.error ?? ''}`))
  return [
    `bench gpu (${r.runtime}) — adapter: ${r.adapter}`,
    `${r.note}; prime ${r.prime}; ${r.reps === 0 ? 'first run timed' : `median of ${r.reps} runs after a first`}`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map(row => `| ${row.join(' | ')} |`),
    ...(errors.length > 0 ? ['', 'errors:', ...errors] : [])
  ].join('\n') + '\n'
}
