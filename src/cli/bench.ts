/**
 * `cerberus bench <what>`: the benchmarks (src/bench), each printing ratios against a
 * baseline measured in the same run and writing JSON with --json.
 */
import { UsageError } from './args.ts'
import { BENCH_ENGINE_USAGE } from './bench-engine.ts'
import { BENCH_HE_USAGE } from './bench-he.ts'
import { BENCH_MESH_USAGE } from './bench-mesh.ts'
import { BENCH_RELAY_USAGE } from './bench-relay.ts'
import { loadCliModel, parse, type CliIo } from './options.ts'

/** Help of every benchmark. */
export const BENCH_USAGE = [BENCH_HE_USAGE, BENCH_ENGINE_USAGE, BENCH_MESH_USAGE, BENCH_RELAY_USAGE].join('\n')

/** The benchmarks by name. */
const BENCHES = ['he', 'engine', 'mesh', 'relay'] as const

/** Run `bench`. */
export async function cmdBench (args: string[], io: CliIo): Promise<void> {
  const [what, ...rest] = args
  if (what === '--help' || what === '-h' || what === undefined) return io.stdout(`Usage: cerberus bench <${BENCHES.join('|')}> [options]\n\n${BENCH_USAGE}`)
  switch (what) {
    case 'relay': {
      const v = parse(rest, { peers: { type: 'string' }, concurrency: { type: 'string' }, relay: { type: 'string' }, health: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } })
      if (v.help === true) return io.stdout(BENCH_RELAY_USAGE)
      const { cmdBenchRelay } = await import('./bench-relay.ts')
      return await cmdBenchRelay(v, io)
    }
    case 'engine': {
      const v = parse(rest, { runtime: { type: 'string' }, models: { type: 'string' }, tokens: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } })
      if (v.help === true) return io.stdout(BENCH_ENGINE_USAGE)
      const { cmdBenchEngine } = await import('./bench-engine.ts')
      const { ckpt, tokenizer } = await loadCliModel({})
      return await cmdBenchEngine(v, ckpt, tokenizer, io)
    }
    case 'mesh': {
      const { cmdBenchMesh } = await import('./bench-mesh.ts')
      return await cmdBenchMesh(rest, io)
    }
    case 'he': {
      const v = parse(rest, { runtime: { type: 'string' }, network: { type: 'string' }, shapes: { type: 'string' }, reps: { type: 'string' }, json: { type: 'string' }, calibrate: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } })
      if (v.help === true) return io.stdout(BENCH_HE_USAGE)
      const { cmdBenchHe } = await import('./bench-he.ts')
      return await cmdBenchHe(v, io)
    }
    default:
      throw new UsageError(`unknown benchmark "${what}" (available: ${BENCHES.join(', ')})`)
  }
}
