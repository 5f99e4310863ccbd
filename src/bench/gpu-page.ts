/**
 * bench.html?bench=gpu: the GPU multiply-accumulate in a worker (gpu.worker.ts).
 * `mode=bench` (default) runs `bench gpu` and publishes window.cerberusBench, as the
 * other benchmarks do, for `cerberus bench gpu --runtime chromium`; `mode=check` runs the
 * known jobs named by `cases` (JSON) and publishes window.cerberusGpu for the e2e test.
 */
import { formatGpuBench } from './gpu-bench.ts'
import type { GpuCheckCase, GpuCheckReport, GpuReply, GpuRequest } from './gpu.worker.ts'

declare global {
  interface Window { cerberusGpu?: { report?: GpuCheckReport, error?: string } }
}

function request (q: URLSearchParams): GpuRequest {
  if (q.get('mode') === 'check') return { mode: 'check', cases: JSON.parse(q.get('cases') ?? '[]') as GpuCheckCase[] }
  return {
    mode: 'bench',
    shapes: q.get('shapes')?.split(',').map(s => s.split('x').map(Number) as [number, number]),
    reps: q.has('reps') ? Number(q.get('reps')) : undefined,
    wasmEp: q.get('wasmEp') !== '0'
  }
}

/** Run what the query asks for, showing progress and the result in `out`. */
export function runGpuPage (q: URLSearchParams, out: HTMLElement): void {
  const req = request(q)
  const fail = (error: string): void => {
    if (req.mode === 'check') window.cerberusGpu = { error }
    else window.cerberusBench = { error }
    out.textContent = error
  }
  const worker = new Worker(new URL('./gpu.worker.ts', import.meta.url), { type: 'module', name: 'cerberus-gpu' })
  worker.addEventListener('message', (e: MessageEvent<GpuReply>) => {
    const m = e.data
    if (m.kind === 'progress') out.textContent += `\n${m.line}`
    else if (m.kind === 'check') {
      window.cerberusGpu = { report: m.report }
      out.textContent = JSON.stringify(m.report, null, 2)
    } else if (m.kind === 'bench') {
      window.cerberusBench = { report: m.report }
      out.textContent = formatGpuBench(m.report)
    } else fail(m.error)
  })
  worker.addEventListener('error', (e) => { fail(e.message) })
  worker.postMessage(req)
}
