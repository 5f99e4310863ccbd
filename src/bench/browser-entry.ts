/**
 * bench.html: start the benchmark worker with the query string's options and publish the
 * report on `window.cerberusBench` (read by the CLI through Playwright).
 */
import type { BenchReply, BenchRequest } from './bench.worker.ts'
import { formatEngineBench, type EngineBenchReport } from './engine-bench.ts'
import { formatHeBench, type HeBenchReport } from './he-bench.ts'

declare global {
  interface Window { cerberusBench?: { report?: HeBenchReport | EngineBenchReport, error?: string } }
}

const q = new URLSearchParams(location.search)
const request: BenchRequest = {
  bench: q.get('bench') === 'engine' ? 'engine' : 'he',
  tokens: q.has('tokens') ? Number(q.get('tokens')) : undefined,
  shapes: q.get('shapes')?.split(',').map(s => s.split('x').map(Number) as [number, number]),
  network: (q.get('network') ?? 'lan') as BenchRequest['network'],
  reps: q.has('reps') ? Number(q.get('reps')) : undefined
}
const out = document.getElementById('report') as HTMLElement
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
