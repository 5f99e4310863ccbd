/**
 * `cerberus` — the command line: one dispatch, one file per command.
 *
 * `generate` prints to stdout exactly what llama2.c's run.c prints for the same arguments
 * (the text, then a newline); timing goes to stderr. Known errors print one line
 * `cerberus: <message>` (exit 1); usage errors add a hint (exit 2).
 */
import { CerberusError } from '../core/errors.ts'
import { DEFAULT_MODEL_FILES } from '../node/model-files.ts'
import { UsageError } from './args.ts'
import { BENCH_USAGE, cmdBench } from './bench.ts'
import { cmdEvalQuant, EVAL_QUANT_USAGE } from './eval-quant.ts'
import { cmdGenerate, GENERATE_USAGE } from './generate.ts'
import { cmdMiner, MINER_USAGE } from './miner.ts'
import type { CliIo } from './options.ts'
import { cmdPlan, PLAN_USAGE } from './plan.ts'
import { cmdRelay, RELAY_USAGE } from './relay.ts'
import { cmdServe, SERVE_USAGE } from './serve.ts'
import { cmdScores, SCORES_USAGE } from './scores.ts'
import { cmdValidator, VALIDATOR_USAGE } from './validator.ts'

export type { CliIo } from './options.ts'

const USAGE = `Usage: cerberus <command> [options]

Commands:
  generate      generate text: run.c's output with a plaintext engine, or privately
                (--engine he: an in-process miner; --engine mesh: miners on the mesh)
  eval-quant    measure what W8A8 quantization costs against float32
  serve         an OpenAI-compatible API on 127.0.0.1:8080 (/v1/chat/completions,
                /v1/completions, /v1/models) over private generation: an embedded
                miner (default), the mesh (--relay), or local plaintext (--local)
  plan          print the squeezed encrypted plan of a model as JSON
  relay         run the signaling relay (--port 9090, --health-port, --key-file)
  miner         run a headless miner on WebSockets (--port 9100, --workers 2,
                --relay MULTIADDR to join a mesh and announce itself there)
  validator     keep miners honest: visit them as a user would, check every result
                exactly, publish signed scores (--relay MULTIADDR, --interval MS)
  scores        the miners' standings from validators' scores (--relay, --json)
  bench he      benchmark the encrypted matvec (Node or Chromium)
  bench engine  benchmark private generation (stories260K and a 768-dim 12-layer model)
  bench mesh    benchmark private generation over the mesh (WebRTC, WebSockets) in Chromium
  bench relay   the relay under load (reservations by hundreds of loopback peers)
  bench gpu     the miner's multiply-accumulate on onnxruntime (WebGPU) against the kernel
  bench chaos   the mesh under churn: miners SIGKILLed and started, the relay restarted
  bench soak    one miner serving 1,000 generations: its memory, slope per generation
  help          this text ("cerberus <command> --help" for one command)

Model options (generate, serve, eval-quant, plan, miner, validator):
  --model PATH        a GGUF file (Llama architecture; it brings its own tokenizer) or a
                      llama2.c checkpoint (default: <model dir>/${DEFAULT_MODEL_FILES.checkpoint})
  --tokenizer PATH    the llama2.c checkpoint's tokenizer (default: <model dir>/${DEFAULT_MODEL_FILES.tokenizer})
                      model dir: $CERBERUS_MODEL_DIR, else ../shared/models/stories260K,
                      else ~/.cache/cerberus/models/stories260K (npm run fetch-model)

${GENERATE_USAGE}
${SERVE_USAGE}
${EVAL_QUANT_USAGE}
${PLAN_USAGE}
${RELAY_USAGE}
${MINER_USAGE}
${VALIDATOR_USAGE}
${SCORES_USAGE}
${BENCH_USAGE}`

/** The commands by name. */
const COMMANDS: Readonly<Record<string, (args: string[], io: CliIo) => Promise<void>>> = {
  generate: cmdGenerate,
  serve: cmdServe,
  'eval-quant': cmdEvalQuant,
  plan: cmdPlan,
  relay: cmdRelay,
  miner: cmdMiner,
  validator: cmdValidator,
  scores: cmdScores,
  bench: cmdBench
}

/**
 * Run the CLI with `argv` (without node and script); returns the exit status.
 * Known errors print one line `cerberus: <message>`; usage errors add a hint.
 */
export async function main (argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.stdout(USAGE)
      return command === undefined ? 2 : 0
    }
    const run = COMMANDS[command]
    if (run === undefined || !Object.hasOwn(COMMANDS, command)) throw new UsageError(`unknown command "${command}"`)
    await run(rest, io)
    return 0
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`cerberus: ${err.message}\nRun "cerberus help" for usage.\n`)
      return 2
    }
    if (err instanceof CerberusError) {
      io.stderr(`cerberus: ${err.message}\n`)
      return 1
    }
    throw err
  }
}
