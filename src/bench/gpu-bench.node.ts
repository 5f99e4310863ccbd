/**
 * `cerberus bench gpu [--runtime node|chromium] [--shapes 768x768,…] [--reps N]
 *  [--hardware-gpu] [--json FILE]`: the Node side of src/bench/gpu-bench.ts.
 *
 * node: the WebAssembly kernel vs onnxruntime-node's CPU EP and, when it finds an
 * adapter, its WebGPU EP (Dawn over Vulkan). chromium: bench.html?bench=gpu in headless
 * Chromium — WebGPU on SwiftShader by default; --hardware-gpu lets Chromium use the
 * machine's GPU instead (no --disable-gpu, Vulkan on), for a machine that has one.
 */
import { writeFile } from 'node:fs/promises'
import { CerberusError } from '../core/errors.ts'
import { formatGpuBench, GPU_BENCH_SHAPES, runGpuBench, type GpuBenchBackend, type GpuBenchReport } from './gpu-bench.ts'
import { createGpuMac, probeNodeWebGpu } from '../gpu/mac-runner.node.ts'

/** Usage of `bench gpu`. */
export const BENCH_GPU_USAGE = `cerberus bench gpu [options]
  the miner's multiply-accumulate: WebAssembly kernel vs onnxruntime (WebGPU, CPU/wasm EP)
  --runtime node|chromium   where to run (default node)
  --shapes OUTxIN,...       shapes (default ${GPU_BENCH_SHAPES.map(([o, i]) => `${o}x${i}`).join(',')}), N = 2048
  --reps N                  timed jobs per backend after the first (default 3; 0 on a software adapter)
  --hardware-gpu            chromium: use the machine's GPU (Vulkan) instead of SwiftShader
  --json FILE               also write the report as JSON
`

/** Chromium flags for a real GPU: the bench's loopback-only flags without --disable-gpu, Vulkan on. */
export const HARDWARE_GPU_CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu', '--ignore-gpu-blocklist', '--enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan', '--use-angle=vulkan', '--use-vulkan=native']

/** The parsed options. */
export interface BenchGpuValues {
  readonly runtime?: string
  readonly shapes?: string
  readonly reps?: string
  readonly json?: string
  readonly 'hardware-gpu'?: boolean
}

/** A usage mistake in `bench gpu`'s options (the CLI reports it as a usage error). */
export class BenchGpuUsageError extends CerberusError {
  constructor (message: string) {
    super('BENCH_GPU_USAGE', message)
  }
}

function parseShapes (raw: string): Array<[number, number]> {
  return raw.split(',').map(s => {
    const m = /^(\d+)x(\d+)$/.exec(s.trim())
    if (m === null || Number(m[1]) < 1 || Number(m[2]) < 1 || Number(m[1]) > 16384 || Number(m[2]) > 16384) throw new BenchGpuUsageError(`--shapes takes OUTxIN pairs in 1..16384, got "${s}"`)
    return [Number(m[1]), Number(m[2])]
  })
}

/** The benchmark in Node: onnxruntime-node's CPU EP, and its WebGPU EP where an adapter exists. */
export async function runNodeGpuBench (shapes: Array<[number, number]> | undefined, reps: number | undefined, onLine: (l: string) => void): Promise<GpuBenchReport> {
  const probe = await probeNodeWebGpu()
  onLine(probe.ok ? `onnxruntime-node WebGPU EP: adapter found (${probe.adapter})` : probe.reason)
  const backends: GpuBenchBackend[] = [
    ...(probe.ok ? [{ backend: 'webgpu' as const, create: (s: Parameters<typeof createGpuMac>[0]) => createGpuMac(s, { ep: 'webgpu' }) }] : []),
    { backend: 'cpu', create: s => createGpuMac(s, { ep: 'cpu' }) }
  ]
  const software = probe.ok && /swiftshader|lavapipe|llvmpipe/i.test(probe.adapter)
  return await runGpuBench({
    runtime: 'node',
    adapter: probe.ok ? probe.adapter : `none (${probe.reason})`,
    softwareAdapter: software,
    backends,
    shapes,
    reps: reps ?? (software ? 0 : 3),
    onShape: s => { onLine(`${s.dOut}×${s.dIn}: wasm ${s.wasmMs.toFixed(1)} ms, ${s.runs.map(r => `${r.backend} ${r.ms.toFixed(1)} ms${r.exact ? '' : ' NOT EXACT'}`).join(', ')}`) }
  })
}

/** Run `bench gpu`. */
export async function cmdBenchGpu (v: BenchGpuValues, io: { stdout: (s: string) => void, stderr: (s: string) => void }): Promise<void> {
  const runtime = v.runtime ?? 'node'
  if (runtime !== 'node' && runtime !== 'chromium') throw new BenchGpuUsageError(`--runtime must be node or chromium, got "${runtime}"`)
  const shapes = v.shapes === undefined ? undefined : parseShapes(v.shapes)
  const reps = v.reps === undefined ? undefined : Number(v.reps)
  if (reps !== undefined && (!Number.isInteger(reps) || reps < 0 || reps > 1000)) throw new BenchGpuUsageError(`--reps must be an integer in 0..1000, got "${v.reps}"`)
  const line = (l: string): void => { io.stderr(`${l}\n`) }
  let report: GpuBenchReport
  if (runtime === 'node') report = await runNodeGpuBench(shapes, reps, line)
  else {
    const { runBrowserBench } = await import('./browser-runner.ts')
    const q = new URLSearchParams({ bench: 'gpu', mode: 'bench' })
    if (shapes !== undefined) q.set('shapes', shapes.map(([o, i]) => `${o}x${i}`).join(','))
    if (reps !== undefined) q.set('reps', String(reps))
    report = await runBrowserBench(q, { onProgress: line, timeoutMs: 3_600_000, args: v['hardware-gpu'] === true ? HARDWARE_GPU_CHROMIUM_ARGS : undefined }) as GpuBenchReport
  }
  io.stdout(formatGpuBench(report))
  if (v.json !== undefined) await writeFile(v.json, JSON.stringify(report, null, 2) + '\n')
}
