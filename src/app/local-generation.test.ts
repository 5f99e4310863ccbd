/**
 * Local mode's engine: the squeezed plaintext twin on this thread, with the private
 * pipeline's plan, so its greedy text is the w8a8 text; stoppable; yields to the event loop.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { squeezedEngine } from '../core/engine/index.ts'
import { NETWORKS } from '../core/he/index.ts'
import { createRng, createSampler, encode, generate } from '../core/model/index.ts'
import { squeezeModel } from '../core/squeeze/index.ts'
import { loadModelFiles } from '../node/model-files.ts'
import { createLocalGeneration } from './local-generation.ts'
import type { LoadedModel } from './model-source.ts'

let model: LoadedModel

beforeAll(async () => { model = await loadModelFiles() })

function twinText (prompt: string, newTokens: number, temperature: number, seed: number): string {
  const engine = squeezedEngine(squeezeModel(model.ckpt, { network: NETWORKS.loopback }))
  const steps = encode(model.tokenizer, prompt).length - 1 + newTokens
  const dec = new TextDecoder()
  let text = ''
  for (const t of generate(engine, model.tokenizer, createSampler({ temperature, topp: 0.9 }, createRng(seed)), { prompt, steps })) if (!t.fromPrompt) text += dec.decode(t.bytes, { stream: true })
  return text + dec.decode()
}

describe('local generation', () => {
  it('greedy and seeded answers are the plaintext twin\'s text; the receipt says nothing was sent', async () => {
    const local = createLocalGeneration(model, { network: NETWORKS.loopback })
    for (const [temperature, seed] of [[0, 1], [1, 42]]) {
      let text = ''
      const r = await local.generate('Once upon a time', { temperature, topp: 0.9, seed, maxTokens: 40 }, { onText: t => { text += t } })
      expect(text).toBe(twinText('Once upon a time', 40, temperature, seed))
      expect(r).toMatchObject({ tokens: 40, local: true, bytesUp: 0, bytesDown: 0, verified: 0, rejected: 0, miners: [] })
      // the receipt counts the prompt's tokens (BOS not counted) and times the first new one
      expect(r.promptTokens).toBe(encode(model.tokenizer, 'Once upon a time').length - 1)
      expect(r.firstTokenMs).toBeGreaterThan(0)
      expect(r.firstTokenMs).toBeLessThanOrEqual(r.ms)
      expect(r.stopped).toBeUndefined()
    }
  })

  it('stops when aborted, and lets timers run while it generates', async () => {
    const local = createLocalGeneration(model)
    const controller = new AbortController()
    let ticks = 0
    const timer = setInterval(() => { ticks++ }, 1)
    let text = ''
    const r = await local.generate('', { temperature: 0, topp: 0.9, maxTokens: 500 }, {
      signal: controller.signal,
      onText: t => { text += t; if (text.length > 200) controller.abort() }
    })
    clearInterval(timer)
    expect(r.stopped).toBe(true)
    expect(r.tokens).toBeLessThan(500)
    expect(ticks).toBeGreaterThan(0)
  })
})
