/**
 * `cerberus bench <what>`: the benchmarks (src/bench), each printing ratios against a
 * baseline measured in the same run and writing JSON with --json.
 */
import { UsageError } from './args.ts'
import { BENCH_CHAOS_USAGE } from './bench-chaos.ts'
import { BENCH_ENGINE_USAGE } from './bench-engine.ts'
import { BENCH_HE_USAGE } from './bench-he.ts'
import { BENCH_MESH_USAGE } from './bench-mesh.ts'
import { BENCH_PRIVACY_USAGE } from './bench-privacy.ts'
import { BENCH_RELAY_USAGE } from './bench-relay.ts'
import { BENCH_SOAK_USAGE } from './bench-soak.ts'
import { loadCliModel, parse, type CliIo } from './options.ts'

/** `bench gpu` in the overall help (its module loads onnxruntime, so it is imported on use). */
const BENCH_GPU_USAGE_LINE = `bench gpu [--runtime node|chromium] [--shapes OUTxIN,...] [--reps N] [--hardware-gpu] [--json FILE]
                     the miner's multiply-accumulate: the WebAssembly kernel against onnxruntime
                     (WebGPU, CPU/wasm EP) in the same run, exact yes/no; on a software adapter
                     it proves correctness only
`

/** Help of every benchmark. */
export const BENCH_USAGE = [BENCH_HE_USAGE, BENCH_ENGINE_USAGE, BENCH_MESH_USAGE, BENCH_RELAY_USAGE, BENCH_GPU_USAGE_LINE, BENCH_PRIVACY_USAGE, BENCH_CHAOS_USAGE, BENCH_SOAK_USAGE].join('\n')

/** The benchmarks by name. */
const BENCHES = ['he', 'engine', 'mesh', 'relay', 'gpu', 'privacy', 'chaos', 'soak'] as const

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
      const v = parse(rest, { runtime: { type: 'string' }, models: { type: 'string' }, tokens: { type: 'string' }, 'prompt-tokens': { type: 'string' }, network: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } })
      if (v.help === true) return io.stdout(BENCH_ENGINE_USAGE)
      const { cmdBenchEngine } = await import('./bench-engine.ts')
      const { ckpt, tokenizer } = await loadCliModel({})
      return await cmdBenchEngine(v, ckpt, tokenizer, io)
    }
    case 'mesh': {
      const { cmdBenchMesh } = await import('./bench-mesh.ts')
      return await cmdBenchMesh(rest, io)
    }
    case 'chaos': {
      const { cmdBenchChaos } = await import('./bench-chaos.ts')
      return await cmdBenchChaos(rest, io)
    }
    case 'soak': {
      const { cmdBenchSoak } = await import('./bench-soak.ts')
      return await cmdBenchSoak(rest, io)
    }
    case 'gpu': {
      const v = parse(rest, { runtime: { type: 'string' }, shapes: { type: 'string' }, reps: { type: 'string' }, 'hardware-gpu': { type: 'boolean' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } })
      const { BENCH_GPU_USAGE, BenchGpuUsageError, cmdBenchGpu } = await import('../bench/gpu-bench.node.ts')
      if (v.help === true) return io.stdout(BENCH_GPU_USAGE)
      return await cmdBenchGpu(v, io).catch((err: unknown) => { throw err instanceof BenchGpuUsageError ? new UsageError(err.message) : err })
    }
    case 'he': {
      const v = parse(rest, { runtime: { type: 'string' }, network: { type: 'string' }, shapes: { type: 'string' }, reps: { type: 'string' }, json: { type: 'string' }, calibrate: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } })
      if (v.help === true) return io.stdout(BENCH_HE_USAGE)
      const { cmdBenchHe } = await import('./bench-he.ts')
      return await cmdBenchHe(v, io)
    }
    case 'privacy': {
      const v = parse(rest, { generations: { type: 'string' }, tokens: { type: 'string' }, 'pad-to': { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } })
      if (v.help === true) return io.stdout(BENCH_PRIVACY_USAGE)
      const { cmdBenchPrivacy } = await import('./bench-privacy.ts')
      return await cmdBenchPrivacy(v, io)
    }
    default:
      throw new UsageError(`unknown benchmark "${what}" (available: ${BENCHES.join(', ')})`)
  }
}
