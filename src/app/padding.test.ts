/**
 * Length padding with real SEAL and the real stories260K (in-process miner): two prompts of
 * different lengths with answers of different lengths, within one bucket, send the same jobs
 * (count and matrices) — and the text is exactly what the unpadded pipeline prints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localHe, type MinerLink } from '../core/engine/index.ts'
import { loadSeal, NETWORKS, type Seal } from '../core/he/index.ts'
import { loadModelFiles } from '../node/model-files.ts'
import { promptTokens } from './answer-loop.ts'
import { answerPadding, bucketOf, PaddingOptionsError } from './padding.ts'
import { createPrivateGeneration, type PrivateGeneration } from './private-generation.ts'
import type { LoadedModel } from './model-source.ts'
import type { AnswerReceipt } from './types.ts'

let seal: Seal
let model: LoadedModel
const closers: Array<() => Promise<void> | void> = []
beforeAll(async () => {
  seal = await loadSeal()
  model = await loadModelFiles()
})
afterAll(async () => { for (const c of closers) await c() })

/** A pipeline whose jobs are recorded by matrix id, as a miner would see them arrive. */
async function pipeline (padTo?: number): Promise<{ gen: PrivateGeneration, jobs: string[] }> {
  const { session, miner } = localHe(seal)
  const jobs: string[] = []
  const seen: MinerLink = { ...miner, compute: async (id, inputs, job, blocks) => { jobs.push(id); return await miner.compute(id, inputs, job, blocks) } }
  const gen = await createPrivateGeneration(model, { session, miners: seen }, { network: NETWORKS.loopback, ...(padTo === undefined ? {} : { padTo }) })
  closers.push(async () => { await gen.close(); session.close?.(); miner.close?.() })
  return { gen, jobs }
}

async function answer (p: { gen: PrivateGeneration, jobs: string[] }, prompt: string, maxTokens: number): Promise<{ text: string, jobs: string[], receipt: AnswerReceipt }> {
  p.jobs.length = 0
  let text = ''
  const receipt = await p.gen.generate(prompt, { temperature: 0.8, topp: 0.9, seed: 5, maxTokens }, { onText: t => { text += t } })
  return { text, jobs: [...p.jobs], receipt }
}

const counts = (ids: readonly string[]): Record<string, number> => {
  const c: Record<string, number> = {}
  for (const id of ids) c[id] = (c[id] ?? 0) + 1
  return c
}

describe('length padding', () => {
  it('two prompts (1 and 7 tokens) and answers (3 and 10 tokens) in one bucket of 16: the same jobs; the text is unchanged', async () => {
    const short = { prompt: '', maxTokens: 3 }
    const long = { prompt: 'Once upon a time there was', maxTokens: 10 }
    expect(promptTokens(model.tokenizer, long.prompt).length).toBe(7)
    const plain = await pipeline()
    const padded = await pipeline(16)
    const a0 = await answer(plain, short.prompt, short.maxTokens)
    const b0 = await answer(plain, long.prompt, long.maxTokens)
    const a = await answer(padded, short.prompt, short.maxTokens)
    const b = await answer(padded, long.prompt, long.maxTokens)
    // unpadded, the lengths show; padded, a miner sees the same jobs for both
    expect(a0.jobs.length).toBeLessThan(b0.jobs.length)
    expect(a.jobs.length).toBe(b.jobs.length)
    expect(counts(a.jobs)).toEqual(counts(b.jobs))
    expect(a.receipt.padded).toEqual({ prompt: 16, answer: 16 })
    expect(b.receipt.padded).toEqual({ prompt: 16, answer: 16 })
    // every dummy went out as a real job and was verified like one (a batched prefill job,
    // "id*16", carries 16 vectors: the padded prompt pass is one such job per matrix)
    const vectors = (ids: readonly string[]): number => ids.reduce((n, id) => n + Number(id.split('*')[1] ?? 1), 0)
    expect(a.jobs.some(id => id.endsWith('*16'))).toBe(true)
    expect(a.receipt.verified).toBe(vectors(a.jobs))
    // the user's output is the unpadded pipeline's, token for token
    expect(a.text).toBe(a0.text)
    expect(b.text).toBe(b0.text)
    expect(a.receipt.tokens).toBe(a0.receipt.tokens)
    expect(b.receipt.tokens).toBe(b0.receipt.tokens)
  })

  it('buckets and bounds', () => {
    expect([1, 31, 32, 33, 64, 65].map(n => bucketOf(n, 32))).toEqual([32, 32, 32, 64, 64, 96])
    expect(bucketOf(0, 32)).toBe(32)
    for (const bad of [0, -1, 1.5, Number.NaN, 1e6]) expect(() => answerPadding(bad)).toThrow(PaddingOptionsError)
    const p = answerPadding(32)
    expect(p.padBatch(5)).toBe(5) // outside an answer's first pass nothing is padded
  })
})
