/**
 * `cerberus eval-quant`: what W8A8 quantization costs against float32 (top-1 agreement,
 * mean KL, perplexity), teacher-forced on samples of the f32 model.
 */
import { writeFile } from 'node:fs/promises'
import { evalQuant } from '../core/model/index.ts'
import { parseInteger } from './args.ts'
import { loadCliModel, MODEL_OPTIONS, parse, type CliIo } from './options.ts'

/** Help of `eval-quant`. */
export const EVAL_QUANT_USAGE = `eval-quant:
  --sequences N       held-out sequences sampled from the f32 model (default 16)
  --steps N           positions per sequence (default 256)
  --json FILE         also write the numbers as JSON
`

/** Run `eval-quant`. */
export async function cmdEvalQuant (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, { ...MODEL_OPTIONS, sequences: { type: 'string' }, steps: { type: 'string' }, json: { type: 'string' } })
  if (v.help === true) return io.stdout(EVAL_QUANT_USAGE)
  const sequences = v.sequences === undefined ? 16 : parseInteger('sequences', v.sequences, 1, 10000)
  const steps = v.steps === undefined ? 256 : parseInteger('steps', v.steps, 2, 1 << 20)
  const { ckpt, tokenizer } = await loadCliModel(v)
  const report = evalQuant(ckpt, tokenizer, { sequences, steps, onProgress: (d, n) => io.stderr(`\rteacher-forcing sequence ${d}/${n}`) })
  io.stderr('\n')
  const pct = (x: number): string => `${(100 * x).toFixed(2)} %`
  const lines = [
    `held-out text: ${report.sequences} sequences sampled from the f32 model (seeds 1..${report.sequences}, temperature 1, top-p 0.9), ${report.positions} teacher-forced positions`,
    `f32 perplexity on it: ${report.f32Perplexity.toFixed(4)}`,
    '',
    '| variant | top-1 agreement | mean KL (nats) | perplexity | change | greedy prefix equal | greedy positions equal |',
    '|---|---|---|---|---|---|---|',
    ...report.variants.map(r => `| ${r.name} | ${pct(r.top1Agreement)} | ${r.meanKl.toFixed(5)} | ${r.perplexity.toFixed(4)} | ${r.perplexityChange >= 0 ? '+' : ''}${pct(r.perplexityChange)} | ${r.greedyPrefixAgreement} of ${r.greedyLength} | ${r.greedySamePositions} of ${r.greedyLength} |`),
    ''
  ]
  io.stdout(lines.join('\n'))
  if (v.json !== undefined) await writeFile(v.json, JSON.stringify(report, null, 2) + '\n')
}
