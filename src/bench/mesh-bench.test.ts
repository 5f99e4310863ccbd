/**
 * The mesh benchmark's pure parts: the prompt of about N tokens it sends (`--prompt-tokens`)
 * for the real stories260K tokenizer and the synthetic model's, and the table it prints.
 */
import { describe, expect, it } from 'vitest'
import { encode, parseTokenizer, SYNTHETIC_768X12, syntheticTokenizerBytes } from '../core/model/index.ts'
import { loadModelFiles } from '../node/model-files.ts'
import { formatMeshBench, type MeshBenchRun } from './mesh-bench.ts'
import { promptOfTokens } from './mesh-prompt.ts'

const story = 'Once upon a time, there was a little girl named Lily. She loved to play outside.'.split(' ')

describe('bench mesh --prompt-tokens', () => {
  it('builds a prompt of at most N tokens, at most one short, for the real and the synthetic tokenizer', async () => {
    const { tokenizer } = await loadModelFiles()
    const synthetic = parseTokenizer(syntheticTokenizerBytes(SYNTHETIC_768X12.vocabSize), SYNTHETIC_768X12.vocabSize)
    for (const [tok, words] of [[tokenizer, story], [synthetic, Array.from({ length: 64 }, (_, i) => `w${300 + i}`)]] as const) {
      for (const n of [1, 8, 16, 32, 100]) {
        const count = encode(tok, promptOfTokens(tok, n, words)).length - 1
        expect(count).toBeLessThanOrEqual(n)
        expect(count).toBeGreaterThanOrEqual(n - 1)
      }
      expect(promptOfTokens(tok, 0, words)).toBe('')
    }
  })

  it('prints time to first token beside the rate after it only for runs with a prompt', () => {
    const run: MeshBenchRun = { model: 'stories260K', path: 'webrtc', link: 'loopback', plan: 'unfused', roundTripsPerToken: 20, tokPerS: 3, firstRunTokPerS: 2, heLocalTokPerS: 9, heLocalRoundTripsPerToken: 20, ofHeLocal: 1 / 3, bytesPerToken: 900_000, upPerToken: 400_000, downPerToken: 500_000, tokens: 16, promptTokens: 0, verified: 300, rejected: 0, miners: 2, tokensMatch: true }
    expect(formatMeshBench({ link: { name: 'loopback' }, runs: [run], notes: [] })).not.toContain('time to first token')
    const out = formatMeshBench({ link: { name: 'loopback' }, runs: [{ ...run, promptTokens: 32, firstTokenMs: 1200, heLocalFirstTokenMs: 300, decodeMsPerToken: 300, firstTokenVsOneByOne: 1200 / (33 * 300) }], notes: [] })
    expect(out).toContain('| stories260K | loopback | webrtc | 32 | 1200 | 300 | 300 | 0.12 |')
  })
})
