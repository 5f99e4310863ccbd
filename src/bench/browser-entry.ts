/**
 * bench.html: run the benchmark the query string names and publish its report —
 * `he`/`engine` in a benchmark worker (window.cerberusBench); `client`, `donor` and
 * `helocal` on this page with the app layer (mesh-page.ts: window.cerberusClient,
 * window.cerberusDonor); `gpu` in its own worker (gpu-page.ts). The CLI and the e2e
 * tests read them through Playwright.
 */
import type { BenchReply, BenchRequest } from './bench.worker.ts'
import { formatEngineBench, type EngineBenchReport } from './engine-bench.ts'
import type { GpuBenchReport } from './gpu-bench.ts'
import type { HeBenchReport } from './he-bench.ts'
import { formatHeBench } from './he-bench-format.ts'

declare global {
  interface Window { cerberusBench?: { report?: HeBenchReport | EngineBenchReport | GpuBenchReport, error?: string } }
}

function runInWorker (q: URLSearchParams, out: HTMLElement): void {
  const request: BenchRequest = {
    bench: q.get('bench') === 'engine' ? 'engine' : 'he',
    tokens: q.has('tokens') ? Number(q.get('tokens')) : undefined,
    shapes: q.get('shapes')?.split(',').map(s => s.split('x').map(Number) as [number, number]),
    network: (q.get('network') ?? 'lan') as BenchRequest['network'],
    reps: q.has('reps') ? Number(q.get('reps')) : undefined
  }
  const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module', name: 'cerberus-bench' })
  worker.addEventListener('message', (e: MessageEvent<BenchReply>) => {
    const m = e.data
    if (m.kind === 'progress') out.textContent += `\n${m.line}`
    else if (m.kind === 'done') {
      window.cerberusBench = { report: m.report }
      out.textContent = 'models' in m.report ? formatEngineBench(m.report) : formatHeBench(m.report)
    } else {
      window.cerberusBench = { error: m.error }
      out.textContent = m.error
    }
  })
  worker.addEventListener('error', (e) => { window.cerberusBench = { error: e.message } })
  worker.postMessage(request)
}

const q = new URLSearchParams(location.search)
const out = document.getElementById('report') as HTMLElement
if (q.get('bench') === 'gpu') {
  void import('./gpu-page.ts').then(({ runGpuPage }) => { runGpuPage(q, out) })
} else if (q.get('bench') === 'donor' || q.get('bench') === 'client' || q.get('bench') === 'helocal') {
  void import('./mesh-page.ts').then(async ({ runAppPage }) => { await runAppPage(q, out) })
} else {
  runInWorker(q, out)
}
