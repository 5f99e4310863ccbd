import { describe, expect, it } from 'vitest'
import { stories260KGguf } from '../../test/stories-gguf.ts'
import { GenerationOptionsError } from './errors.ts'
import { generate, type LogitsEngine } from './generate.ts'
import { loadModelBytes } from './load-model.ts'
import { createRng } from './rng.ts'
import { createSampler } from './sampler.ts'

// The generation loop on its own: an engine whose logits pick the tokens of a script.
function scripted (script: number[], vocab = 512): LogitsEngine {
  const logits = new Float32Array(vocab)
  return { seqLen: 64, forward: (_t, pos) => { logits.fill(0); logits[script[pos] ?? 0] = 10; return logits } }
}
const { tokenizer } = loadModelBytes(stories260KGguf())
const greedy = (): ReturnType<typeof createSampler> => createSampler({ temperature: 0, topp: 0 }, createRng(1))

describe('the generation loop and the tokenizer\'s stop tokens', () => {
  it('stops when a GGUF model samples its EOS (run.c stops only on BOS)', () => {
    const out = [...generate(scripted([403, 407, 2, 261]), tokenizer, greedy(), { prompt: '', steps: 10 })]
    expect(out.map(t => t.token)).toEqual([403, 407])
  })

  it('feeds given prompt tokens, end tokens of earlier turns included, without stopping', () => {
    const out = [...generate(scripted([0, 0, 0, 378, 2]), tokenizer, greedy(), { prompt: 'ignored', promptTokens: [1, 403, 2, 407], steps: 10 })]
    expect(out.map(t => [t.token, t.fromPrompt])).toEqual([[403, true], [2, true], [407, true], [378, false]])
  })

  it('refuses empty or out-of-vocabulary prompt tokens', () => {
    expect(() => [...generate(scripted([]), tokenizer, greedy(), { prompt: '', promptTokens: [], steps: 4 })]).toThrow(GenerationOptionsError)
    expect(() => [...generate(scripted([]), tokenizer, greedy(), { prompt: '', promptTokens: [1, 512], steps: 4 })]).toThrow(/prompt token 512 is outside the vocabulary/)
  })
})
