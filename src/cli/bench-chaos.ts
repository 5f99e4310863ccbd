/**
 * `cerberus bench chaos [--generations N] [--miners M] [--relay-restarts R] [--tokens T] [--seed S] [--json FILE]`
 * (src/bench/chaos-bench.ts).
 */
import { writeFile } from 'node:fs/promises'
import { parseInteger } from './args.ts'
import { parse, type CliIo } from './options.ts'

/** Help of `bench chaos`. */
export const BENCH_CHAOS_USAGE = `bench chaos [--generations N] [--miners M] [--relay-restarts R] [--tokens T] [--seed S] [--json FILE]
                     the mesh under churn, on loopback: M headless miners (default 4) SIGKILLed
                     and started at random every 2–5 s, the relay restarted R times (default 2),
                     during N greedy generations (default 20) of T tokens (default 24) by a
                     user on the CLI's path; texts = w8a8, the longest stall between tokens,
                     every job accounted for, the user's heap after GC per generation
`

/** Run `bench chaos`. */
export async function cmdBenchChaos (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, { generations: { type: 'string' }, miners: { type: 'string' }, 'relay-restarts': { type: 'string' }, tokens: { type: 'string' }, seed: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } })
  if (v.help === true) return io.stdout(BENCH_CHAOS_USAGE)
  const int = (name: 'generations' | 'miners' | 'relay-restarts' | 'tokens' | 'seed', min: number, max: number): number | undefined => v[name] === undefined ? undefined : parseInteger(name, v[name], min, max)
  const { runChaosBench, formatChaos } = await import('../bench/chaos-bench.ts')
  const report = await runChaosBench({
    generations: int('generations', 1, 1000),
    miners: int('miners', 2, 16),
    relayRestarts: int('relay-restarts', 0, 100),
    tokens: int('tokens', 1, 256),
    seed: int('seed', 0, 2 ** 31),
    onLog: line => { io.stderr(`${line}\n`) }
  })
  io.stdout(formatChaos(report))
  if (v.json !== undefined) await writeFile(v.json, JSON.stringify(report, null, 2) + '\n')
}
