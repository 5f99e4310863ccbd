/**
 * `cerberus bench privacy [--generations N] [--tokens N] [--pad-to N] [--json FILE]`
 */
import { writeFile } from 'node:fs/promises'
import { parseInteger } from './args.ts'
import { loadCliModel, type CliIo } from './options.ts'

/** Help of `bench privacy`. */
export const BENCH_PRIVACY_USAGE = `bench privacy [--generations N] [--tokens N] [--pad-to N] [--json FILE]
                     what a miner can tell from the sizes, counts and timing of the jobs it
                     sees (one miner seeing every job, in-process, real SEAL): a logistic
                     regression's cross-validated AUC with a bootstrap interval, for pairs of
                     prompts with the same token count but different content (goal ≤ 0.55;
                     N generations per class, default 100), against a control that separates
                     prompt lengths (visible), and the control with padding to buckets of
                     --pad-to tokens (default 32); --tokens new tokens per answer (default 8);
                     ~10 min here
`

/** Run `bench privacy`; --json gets the report (`auc`, `aucLow`, `aucHigh`, the experiments). */
export async function cmdBenchPrivacy (values: { generations?: string, tokens?: string, 'pad-to'?: string, json?: string }, io: CliIo): Promise<void> {
  const { PRIVACY_BENCH, formatPrivacyReport, runPrivacyBench } = await import('../bench/privacy-bench.ts')
  const { PADDING_LIMITS } = await import('../app/index.ts')
  const { loadSeal } = await import('../core/he/index.ts')
  const generations = values.generations === undefined ? PRIVACY_BENCH.generations : parseInteger('generations', values.generations, 6, 10_000)
  const answerTokens = values.tokens === undefined ? PRIVACY_BENCH.answerTokens : parseInteger('tokens', values.tokens, 1, 256)
  const padTo = values['pad-to'] === undefined ? PRIVACY_BENCH.padTo : parseInteger('pad-to', values['pad-to'], 1, PADDING_LIMITS.maxBucket)
  const model = await loadCliModel({})
  const report = await runPrivacyBench({ seal: await loadSeal(), model, generations, answerTokens, padTo, onProgress: line => { io.stderr(`${line}\n`) } })
  io.stdout(formatPrivacyReport(report))
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n')
}
