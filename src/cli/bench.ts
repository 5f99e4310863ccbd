/**
 * `cerberus bench he [--runtime node|chromium] [--network loopback|lan|wan]
 *  [--shapes 64x64,768x768] [--reps N] [--json FILE]`
 */
import { writeFile } from 'node:fs/promises'
import { calibrateCostModel, loadSeal, NETWORKS } from '../core/he/index.ts'
import { DEFAULT_SHAPES, formatHeBench, runHeBench, type HeBenchReport } from '../bench/he-bench.ts'
import { parseChoice, parseInteger, UsageError } from './args.ts'
import type { CliIo } from './main.ts'

export const BENCH_USAGE = `cerberus bench mesh [--models stories260K,synthetic-768] [--tokens N] [--synthetic-layers L] [--relay-peers N] [--split-min-blocks B] [--json FILE]
  private generation over the real mesh on loopback, in Chromium: he-local (baseline, one
  tab), browser↔browser WebRTC (two donor tabs), browser→Node WebSockets (two Node
  miners); tokens/s, bytes/token, tokens = w8a8; and the relay under load (500 peers)

cerberus bench engine [--models stories260K,synthetic-768x12] [--tokens N] [--json FILE]
  private generation: f32-fast, w8a8 and he-local tokens/s in the same run, bytes per token,
  time to first token, squeezed vs naive plan

cerberus bench he [options]
  --runtime node|chromium   where to run (default node; chromium uses the system Chromium)
  --network loopback|lan|wan  the network profile the planner plans for (default lan)
  --shapes OUTxIN,...       shapes (default ${DEFAULT_SHAPES.map(([o, i]) => `${o}x${i}`).join(',')})
  --reps N                  timed repetitions per shape (default 5; 2 above 10^7 weights)
  --calibrate               measure the planner's cost model first (the packed scheme's
                            too) and plan with it (Node)
  Every shape gets a packed-scheme row beside its coefficient row, jobs interleaved.
  --json FILE               also write the report as JSON

cerberus bench relay [--peers N] [--concurrency C] [--json FILE]
  the relay under load: N loopback peers (default 500) make reservations; p50/p99, memory
`

function parseShapes (raw: string): Array<[number, number]> {
  return raw.split(',').map(s => {
    const m = /^(\d+)x(\d+)$/.exec(s.trim())
    if (m === null) throw new UsageError(`--shapes takes OUTxIN pairs separated by commas, got "${s}"`)
    const shape: [number, number] = [Number(m[1]), Number(m[2])]
    if (shape.some(v => v < 1 || v > 16384)) throw new UsageError(`--shapes: ${s} is outside 1..16384`)
    return shape
  })
}

/** Run `bench he`. */
export async function cmdBench (values: { runtime?: string, network?: string, shapes?: string, reps?: string, json?: string, calibrate?: boolean }, io: CliIo): Promise<void> {
  const runtime = values.runtime === undefined ? 'node' : parseChoice('runtime', values.runtime, ['node', 'chromium'] as const)
  const network = values.network === undefined ? 'lan' : parseChoice('network', values.network, ['loopback', 'lan', 'wan'] as const)
  const shapes = values.shapes === undefined ? DEFAULT_SHAPES : parseShapes(values.shapes)
  const reps = values.reps === undefined ? undefined : parseInteger('reps', values.reps, 1, 1000)
  let report
  if (runtime === 'node') {
    const seal = await loadSeal()
    const cost = values.calibrate === true ? calibrateCostModel(seal) : undefined
    if (cost !== undefined) io.stderr(`calibrated cost model (µs): ${JSON.stringify(cost)}\n`)
    report = runHeBench(seal, { runtime: 'node', shapes, network: NETWORKS[network], reps, cost, onShape: s => io.stderr(`${s.dOut}×${s.dIn}: total ${s.totalMs.toFixed(1)} ms${s.packed === undefined ? '' : `, packed ${s.packed.totalMs.toFixed(1)} ms`}\n`) })
  } else {
    const { runBrowserBench } = await import('../node/browser-bench.ts')
    const q = new URLSearchParams({ bench: 'he', network, shapes: shapes.map(([o, i]) => `${o}x${i}`).join(',') })
    if (reps !== undefined) q.set('reps', String(reps))
    report = await runBrowserBench(q, { onProgress: line => io.stderr(`${line}\n`) }) as HeBenchReport
  }
  io.stdout(formatHeBench(report))
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n')
}
