/**
 * `cerberus bench soak [--generations N] [--tokens T] [--per-user K] [--workers W] [--json FILE]`
 * (src/bench/soak-bench.ts).
 */
import { writeFile } from 'node:fs/promises'
import { parseInteger } from './args.ts'
import { parse, type CliIo } from './options.ts'

/** Help of `bench soak`. */
export const BENCH_SOAK_USAGE = `bench soak [--generations N] [--tokens T] [--per-user K] [--workers W] [--json FILE]
                     one headless miner (its own process) serving N private generations
                     (default 1000) of T tokens (default 4), a new user (keys, session,
                     stream) every K (default 4): the miner's heap after GC, its HE workers'
                     heap and WebAssembly memory, the users' heap — slope per generation
                     (least squares) and growth over the steady state
`

/** Run `bench soak`. */
export async function cmdBenchSoak (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, { generations: { type: 'string' }, tokens: { type: 'string' }, 'per-user': { type: 'string' }, workers: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } })
  if (v.help === true) return io.stdout(BENCH_SOAK_USAGE)
  const int = (name: 'generations' | 'tokens' | 'per-user' | 'workers', min: number, max: number): number | undefined => v[name] === undefined ? undefined : parseInteger(name, v[name], min, max)
  const { runSoakBench, formatSoak } = await import('../bench/soak-bench.ts')
  const report = await runSoakBench({
    generations: int('generations', 2, 100_000),
    tokens: int('tokens', 1, 256),
    generationsPerUser: int('per-user', 1, 100_000),
    workers: int('workers', 1, 64),
    onLog: line => { io.stderr(`${line}\n`) }
  })
  io.stdout(formatSoak(report))
  if (v.json !== undefined) await writeFile(v.json, JSON.stringify(report, null, 2) + '\n')
}
