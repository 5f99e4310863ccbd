/**
 * `cerberus bench he`: the encrypted matvec benchmark (src/bench/he-bench.ts), in Node or
 * Chromium.
 */
import { writeFile } from 'node:fs/promises'
import { calibrateCostModel, loadSeal, NETWORKS } from '../core/he/index.ts'
import { DEFAULT_SHAPES, runHeBench, type HeBenchReport } from '../bench/he-bench.ts'
import { formatHeBench } from '../bench/he-bench-format.ts'
import { parseChoice, parseInteger, UsageError } from './args.ts'
import type { CliIo } from './options.ts'

/** Help of `bench he`. */
export const BENCH_HE_USAGE = `bench he [options]   the encrypted matvec: user, miner and total ms per shape, bytes,
                     exact yes/no, the plain matvecs and the SEAL-only pipeline in the same run
  --runtime node|chromium   where to run (default node; chromium uses the system Chromium)
  --network loopback|lan|wan  the network profile the planner plans for (default lan)
  --shapes OUTxIN,...       shapes (default ${DEFAULT_SHAPES.map(([o, i]) => `${o}x${i}`).join(',')})
  --reps N                  timed repetitions per shape (default 5; 2 above 10^7 weights)
  --calibrate               measure the planner's cost model first (the packed scheme's
                            too) and plan with it (Node)
  Every shape gets a packed-scheme row beside its coefficient row, jobs interleaved.
  --json FILE               also write the report as JSON
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
export async function cmdBenchHe (values: { runtime?: string, network?: string, shapes?: string, reps?: string, json?: string, calibrate?: boolean }, io: CliIo): Promise<void> {
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
    const { runBrowserBench } = await import('../bench/browser-runner.ts')
    const q = new URLSearchParams({ bench: 'he', network, shapes: shapes.map(([o, i]) => `${o}x${i}`).join(',') })
    if (reps !== undefined) q.set('reps', String(reps))
    report = await runBrowserBench(q, { onProgress: line => io.stderr(`${line}\n`) }) as HeBenchReport
  }
  io.stdout(formatHeBench(report))
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n')
}
