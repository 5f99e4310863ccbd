/**
 * Batched packed prefill in the browser, all real: a relay process, a donor tab and a user
 * tab over WebRTC, with a model of stories110M's width (768 dims, hidden 2048; one layer and
 * a 512-token vocabulary so that it fits an e2e budget), whose matrices the user's plan packs
 * (N = 4096, Galois keys made in her HE worker). A prompt of 16 positions (BOS and 15 tokens)
 * goes through each packed matrix as one job of 16 vectors, 4 to a ciphertext; the answer is
 * exactly the plaintext twin's text, every result is verified, and the wire audit is clean.
 */
import type { Server } from 'node:http'
import { expect, test, type Page } from '@playwright/test'
import { squeezedEngine } from '../src/core/engine/index.ts'
import { NETWORKS } from '../src/core/he/index.ts'
import { createRng, createSampler, encode, generate, parseCheckpoint, parseTokenizer, SYNTHETIC_768X12, syntheticModelBytes, syntheticTokenizerBytes } from '../src/core/model/index.ts'
import { squeezeModel } from '../src/core/squeeze/index.ts'
import type { AnswerReceipt } from '../src/app/types.ts'
import type { ClientRunResult } from '../src/bench/mesh-page.ts'
import { serveFiles } from '../src/bench/serve-files.ts'
import { killCliProcesses, startCli } from './support/cli.ts'

const CONFIG = { ...SYNTHETIC_768X12, nLayers: 1, vocabSize: 512 }
/** Vectors per prefill job (the client's DEFAULT_PREFILL batch). */
const BATCH = 16
/** 15 tokens (the synthetic tokenizer has no merges: each byte of " w300" is a token), so BOS and the prompt are one batch. */
const PROMPT = 'w300 w301 w302'
const NEW_TOKENS = 3

let server: Server | undefined
test.afterAll(async () => {
  killCliProcesses()
  await new Promise<void>(resolve => { if (server === undefined) resolve(); else server.close(() => { resolve() }) })
})

test('a 16-position prompt goes through each packed 768-dim matrix as one batched job between browser tabs: the twin\'s text, every result verified, no plaintext on the wire', async ({ browser }) => {
  test.setTimeout(300_000)
  const modelBytes = syntheticModelBytes(CONFIG)
  const tokBytes = syntheticTokenizerBytes(CONFIG.vocabSize)
  const ckpt = parseCheckpoint(modelBytes)
  const tok = parseTokenizer(tokBytes, CONFIG.vocabSize)
  const promptTokens = encode(tok, PROMPT).length - 1
  expect(promptTokens).toBe(BATCH - 1)

  // The user's plan (an unshaped page plans on NETWORKS.lan): which matrices are packed with a prefill plan.
  const sq = squeezeModel(ckpt, { network: NETWORKS.lan })
  let batched = 0
  let others = 0
  for (const g of sq.groups.values()) {
    if (g.placement !== 'encrypted') continue
    g.matrices.forEach((_m, i) => { if (g.prefillPlans?.[i] !== undefined) batched++; else others++ })
  }
  expect(batched).toBeGreaterThan(0)
  const dec = new TextDecoder()
  let twin = ''
  for (const t of generate(squeezedEngine(sq), tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: PROMPT, steps: promptTokens + NEW_TOKENS })) if (!t.fromPrompt) twin += dec.decode(t.bytes, { stream: true })
  twin += dec.decode()

  const served = await serveFiles({ '/model.bin': modelBytes, '/tok.bin': tokBytes })
  server = served.server
  const base = served.base
  const files = `model=${encodeURIComponent(`${base}/model.bin`)}&tokenizer=${encodeURIComponent(`${base}/tok.bin`)}`
  const relay = (await startCli(['relay', '--port', '0'], /relay ready: (\S+)/)).match[1]
  const donorCtx = await browser.newContext()
  const donor: Page = await donorCtx.newPage()
  await donor.goto(`/bench.html?bench=donor&workers=1&relay=${encodeURIComponent(relay)}&${files}`)
  await donor.waitForFunction(() => window.cerberusDonor?.status === 'on' || window.cerberusDonor?.status === 'error', undefined, { timeout: 120_000 })
  expect(await donor.evaluate(() => window.cerberusDonor?.error)).toBeUndefined()

  const user = await (await browser.newContext()).newPage()
  await user.goto(`/bench.html?bench=client&miners=1&steps=${NEW_TOKENS}&prompt=${encodeURIComponent(PROMPT)}&relay=${encodeURIComponent(relay)}&${files}`)
  const r = await (await user.waitForFunction(() => window.cerberusClient, undefined, { timeout: 240_000 })).jsonValue() as ClientRunResult
  expect(r.error).toBeUndefined()
  expect(r.texts?.[0]).toBe(twin)
  const receipt = r.receipts?.[0] as AnswerReceipt
  expect(receipt).toMatchObject({ promptTokens: BATCH - 1, tokens: NEW_TOKENS, rejected: 0 })
  // BOS and the prompt: one job per batched matrix (16 vectors), 16 per other matrix; then
  // one job per matrix for each of the 2 positions after the first new token
  const jobs = receipt.miners.reduce((a, m) => a + m.jobs, 0)
  expect(jobs).toBe(batched + BATCH * others + (NEW_TOKENS - 1) * (batched + others))
  expect(receipt.verified).toBeGreaterThan(0)
  expect(r.audit?.frames.bytes).toBeGreaterThan(1_000_000)
  expect(r.audit?.frames.findings).toEqual([])
  console.log(`batched prefill in Chromium: ${batched} packed matrices with prefill plans, ${others} others; ${jobs} jobs (one vector per job: ${(BATCH + NEW_TOKENS - 1) * (batched + others)}); first token after ${receipt.firstTokenMs?.toFixed(0) ?? '—'} ms`)
})
