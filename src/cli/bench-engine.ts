/**
 * `cerberus bench engine [--models stories260K,synthetic-768x12] [--tokens N] [--json FILE]`
 */
import { writeFile } from 'node:fs/promises'
import { benchEngineModel, formatEngineBench, type EngineBenchModel, type EngineBenchReport } from '../bench/engine-bench.ts'
import { loadSeal } from '../core/he/index.ts'
import { syntheticModel, SYNTHETIC_768X12 } from '../core/model/synthetic.ts'
import type { Checkpoint, Tokenizer } from '../core/model/index.ts'
import { parseTokenizer } from '../core/model/tokenizer.ts'
import { parseInteger, UsageError } from './args.ts'
import type { CliIo } from './main.ts'

const MODELS = ['stories260K', 'synthetic-768x12'] as const

/** A tokenizer file for a 32,000-token synthetic vocabulary (pieces are placeholders). */
function syntheticTokenizer (vocab: number): Tokenizer {
  const enc = new TextEncoder()
  const pieces = Array.from({ length: vocab }, (_, i) => enc.encode(i < 3 ? ['<unk>', '<s>', '</s>'][i] : i < 259 ? `<0x${(i - 3).toString(16).toUpperCase().padStart(2, '0')}>` : ` t${i}`))
  const size = 4 + pieces.reduce((a, p) => a + 8 + p.length, 0)
  const bytes = new Uint8Array(size)
  const dv = new DataView(bytes.buffer)
  dv.setInt32(0, 16, true)
  let off = 4
  for (const p of pieces) {
    dv.setFloat32(off, 0, true)
    dv.setInt32(off + 4, p.length, true)
    bytes.set(p, off + 8)
    off += 8 + p.length
  }
  return parseTokenizer(bytes, vocab)
}

/** Run `bench engine`. */
export async function cmdBenchEngine (values: { models?: string, tokens?: string, json?: string, runtime?: string }, stories: Checkpoint, storiesTok: Tokenizer, io: CliIo): Promise<void> {
  if (values.runtime === 'chromium') {
    // In Chromium: stories260K (the synthetic model's ~1.5 GB does not belong in a tab).
    const { runBrowserBench } = await import('../node/browser-bench.ts')
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
  const seal = await loadSeal()
  const out: EngineBenchModel[] = []
  for (const m of models) {
    io.stderr(`${m}: running…\n`)
    const r = m === 'stories260K'
      ? await benchEngineModel(seal, m, stories, storiesTok, { tokens: tokens ?? 64 })
      : await benchEngineModel(seal, m, syntheticModel(SYNTHETIC_768X12), syntheticTokenizer(SYNTHETIC_768X12.vocabSize), { tokens: tokens ?? 4, naiveTokens: 1 })
    out.push(r)
    io.stderr(`${m}: ${r.heTokPerS.toFixed(2)} tok/s encrypted, ${r.ratio.toFixed(1)}× the plaintext time\n`)
  }
  const report = { runtime: 'node' as const, models: out }
  io.stdout(formatEngineBench(report))
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n')
}
