/**
 * The GPU page's worker (a dedicated worker, as a donor's would be): `check` runs known
 * jobs on onnxruntime-web's WebGPU EP against the WebAssembly kernel and reports, per
 * job, exact yes/no — with onnxruntime's verbose log on, so the page can show where every
 * node was placed; `bench` runs {@link runGpuBench} with the WebGPU and wasm EPs.
 *
 * onnxruntime-web's wasm writes its log with console.log/console.error; the worker keeps
 * the node-placement lines it sees (session_state.cc "placed on [...]").
 */
import { knownJob, type JobFill } from '../core/gpu/index.ts'
import type { MacShape } from '../core/gpu/index.ts'
import { nttPrime } from '../core/gpu/index.ts'
import { createWasmMac } from '../core/gpu/index.ts'
import { createGpuMac, webGpuAdapter } from '../gpu/mac-runner.web.ts'
import { gpuSelfTest, type GpuSelfTestResult } from '../gpu/self-test.ts'
import { runGpuBench, type GpuBenchReport } from './gpu-bench.ts'

/** A known job to check. */
export interface GpuCheckCase {
  readonly name: string
  readonly bits: number
  /** The ring whose NTT prime q is (the job itself may use a smaller N). */
  readonly ring: number
  readonly polyDegree: number
  readonly chunks: number
  readonly blocks: number
  readonly fill: JobFill
}

/** What the page asks for. */
export type GpuRequest =
  | { readonly mode: 'check', readonly cases: readonly GpuCheckCase[] }
  | { readonly mode: 'bench', readonly shapes?: Array<[number, number]>, readonly reps?: number, readonly wasmEp?: boolean }

/** One checked job. */
export interface GpuCheckResult {
  readonly name: string
  readonly shape: { readonly q: string, readonly polyDegree: number, readonly chunks: number, readonly blocks: number }
  readonly exact: boolean
  readonly differ: number
  readonly words: number
  readonly ms: number
  readonly error?: string
}

/** The check's report. */
export interface GpuCheckReport {
  readonly adapter: string | null
  /** onnxruntime's node-placement lines, one or more per session. */
  readonly placement: readonly string[]
  readonly selfTest: GpuSelfTestResult
  readonly cases: readonly GpuCheckResult[]
}

/** What the worker answers. */
export type GpuReply =
  | { readonly kind: 'check', readonly report: GpuCheckReport }
  | { readonly kind: 'bench', readonly report: GpuBenchReport }
  | { readonly kind: 'failed', readonly error: string }
  | { readonly kind: 'progress', readonly line: string }

const placement: string[] = []
for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  const original = console[level].bind(console)
  console[level] = (...args: unknown[]) => {
    const line = args.map(String).join(' ')
    if (/placed on \[/.test(line)) placement.push(line.replace(/^.*VerifyEachNodeIsAssignedToAnEp\]\s*/, ''))
    original(...args)
  }
}

async function check (cases: readonly GpuCheckCase[]): Promise<GpuCheckReport> {
  const adapter = await webGpuAdapter()
  const selfTest = await gpuSelfTest(shape => createGpuMac(shape, { verbose: true }))
  const results: GpuCheckResult[] = []
  for (const c of cases) {
    const shape: MacShape = { q: nttPrime(c.bits, c.ring), polyDegree: c.polyDegree, chunks: c.chunks, blocks: c.blocks }
    const job = knownJob(shape, c.bits * 1000 + c.chunks, c.fill)
    const want = createWasmMac(shape, job.weights).mac(job.inputs)
    const base = { name: c.name, shape: { q: shape.q.toString(), polyDegree: c.polyDegree, chunks: c.chunks, blocks: c.blocks }, words: want.length }
    try {
      const gpu = await createGpuMac(shape, { verbose: true })
      await gpu.upload(job.weights)
      const t0 = performance.now()
      const got = await gpu.mac(job.inputs)
      const ms = performance.now() - t0
      await gpu.dispose()
      let differ = 0
      for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differ++
      results.push({ ...base, exact: differ === 0 && got.length === want.length, differ, ms })
    } catch (err) {
      results.push({ ...base, exact: false, differ: want.length, ms: NaN, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) })
    }
  }
  return { adapter, placement, selfTest, cases: results }
}

interface Scope {
  postMessage: (m: GpuReply) => void
  addEventListener: (t: 'message', l: (e: MessageEvent<GpuRequest>) => void) => void
}
const scope = self as unknown as Scope
scope.addEventListener('message', (e) => {
  void (async () => {
    try {
      const req = e.data
      if (req.mode === 'check') {
        scope.postMessage({ kind: 'check', report: await check(req.cases) })
        return
      }
      const adapter = await webGpuAdapter()
      const software = adapter === null || /swiftshader|llvmpipe|lavapipe|software|cpu/i.test(adapter)
      const backends = [
        ...(adapter === null ? [] : [{ backend: 'webgpu' as const, create: (s: MacShape) => createGpuMac(s) }]),
        ...(req.wasmEp === false ? [] : [{ backend: 'wasm' as const, create: (s: MacShape) => createGpuMac(s, { ep: 'wasm' }) }])
      ]
      const report = await runGpuBench({
        runtime: 'chromium',
        adapter: adapter ?? 'none (WebGPU not available)',
        softwareAdapter: software,
        backends,
        shapes: req.shapes,
        reps: req.reps ?? (software ? 0 : 3),
        onShape: s => { scope.postMessage({ kind: 'progress', line: `${s.dOut}×${s.dIn}: wasm ${s.wasmMs.toFixed(1)} ms, webgpu ${s.webgpuMs?.toFixed(1) ?? '–'} ms, exact ${s.exact ? 'yes' : 'no'}` }) }
      })
      scope.postMessage({ kind: 'bench', report })
    } catch (err) {
      scope.postMessage({ kind: 'failed', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) })
    }
  })()
})
