/**
 * `node src/bench/gpu-bench-main.ts [--shapes …] [--reps N] [--json FILE]`: `bench gpu --runtime
 * node` without the rest of the CLI, so a machine that has only Node and the GPU bench's
 * own packages (onnxruntime-node, onnx-proto) can run it — the device check
 * (scripts/gpu-device-check.sh) carries just those to a GPU machine.
 */
import { parseArgs } from 'node:util'
import { BENCH_GPU_USAGE, cmdBenchGpu } from './gpu-bench.node.ts'

const { values } = parseArgs({ options: { shapes: { type: 'string' }, reps: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true })
if (values.help === true) {
  process.stdout.write(BENCH_GPU_USAGE)
} else {
  try {
    await cmdBenchGpu({ runtime: 'node', ...values }, { stdout: s => process.stdout.write(s), stderr: s => process.stderr.write(s) })
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  }
}
