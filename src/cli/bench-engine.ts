/**
 * `cerberus bench engine`: private generation against the plaintext engines
 * (src/bench/engine-bench.ts), in Node or Chromium.
 */
import { writeFile } from 'node:fs/promises'
import { benchEngineModel, formatEngineBench, type EngineBenchModel, type EngineBenchReport } from '../bench/engine-bench.ts'
import { loadSeal, NETWORKS } from '../core/he/index.ts'
import { syntheticModel, syntheticTokenizerBytes, SYNTHETIC_768X12 } from '../core/model/index.ts'
import { parseTokenizer, type Checkpoint, type Tokenizer } from '../core/model/index.ts'
import { parseChoice, parseInteger, UsageError } from './args.ts'
import type { CliIo } from './options.ts'

const MODELS = ['stories260K', 'synthetic-768x12'] as const

/** Help of `bench engine`. */
export const BENCH_ENGINE_USAGE = `bench engine [--runtime node|chromium] [--models stories260K,synthetic-768x12] [--tokens N] [--prompt-tokens N] [--network loopback|lan|wan] [--json FILE]
                     private generation: f32-fast, w8a8 and he-local tokens/s in the same run,
                     bytes per token, time to first token, squeezed vs naive plan, packed vs
                     coefficient-only plan; --network: what the plans are made for (default
                     loopback, where bytes are free and packing rarely pays; lan and wan
                     choose packed matrices), Node only; --prompt-tokens: the time-to-first-token
                     prompt (default 32, fewer when a token takes long)
`

/** Run `bench engine`. */
export async function cmdBenchEngine (values: { models?: string, tokens?: string, network?: string, json?: string, runtime?: string, 'prompt-tokens'?: string }, stories: Checkpoint, storiesTok: Tokenizer, io: CliIo): Promise<void> {
  if (values.runtime === 'chromium') {
    if (values.network !== undefined) throw new UsageError('--network is for --runtime node (the page plans for loopback)')
    // In Chromium: stories260K (the synthetic model's ~1.5 GB does not belong in a tab).
    const { runBrowserBench } = await import('../bench/browser-runner.ts')
    const q = new URLSearchParams({ bench: 'engine' })
    if (values.tokens !== undefined) q.set('tokens', String(parseInteger('tokens', values.tokens, 1, 10000)))
    const report = await runBrowserBench(q) as EngineBenchReport
    io.stdout(formatEngineBench(report))
    if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n')
    return
  }
  if (values.runtime !== undefined && values.runtime !== 'node') throw new UsageError(`--runtime must be one of node, chromium, got "${values.runtime}"`)
  const models = values.models === undefined ? [...MODELS] : values.models.split(',')
  for (const m of models) if (!(MODELS as readonly string[]).includes(m)) throw new UsageError(`--models: unknown model "${m}" (available: ${MODELS.join(', ')})`)
  const tokens = values.tokens === undefined ? undefined : parseInteger('tokens', values.tokens, 1, 10000)
  const promptTokens = values['prompt-tokens'] === undefined ? undefined : parseInteger('prompt-tokens', values['prompt-tokens'], 1, 256)
  const network = NETWORKS[values.network === undefined ? 'loopback' : parseChoice('network', values.network, ['loopback', 'lan', 'wan'] as const)]
  const seal = await loadSeal()
  const out: EngineBenchModel[] = []
  for (const m of models) {
    io.stderr(`${m}: running…\n`)
    const r = m === 'stories260K'
      ? await benchEngineModel(seal, m, stories, storiesTok, { tokens: tokens ?? 64, network, ...(promptTokens === undefined ? {} : { prefillTokens: promptTokens }) })
      : await benchEngineModel(seal, m, syntheticModel(SYNTHETIC_768X12), parseTokenizer(syntheticTokenizerBytes(SYNTHETIC_768X12.vocabSize), SYNTHETIC_768X12.vocabSize), { tokens: tokens ?? 4, naiveTokens: 1, network, ...(promptTokens === undefined ? {} : { prefillTokens: promptTokens }) })
    out.push(r)
    io.stderr(`${m}: ${r.heTokPerS.toFixed(2)} tok/s encrypted, ${r.ratio.toFixed(1)}× the plaintext time\n`)
  }
  const report = { runtime: 'node' as const, models: out }
  io.stdout(formatEngineBench(report))
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n')
}
