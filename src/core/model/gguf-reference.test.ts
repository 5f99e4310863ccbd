/**
 * GGUF support checked against an independent implementation: llama.cpp, through
 * node-llama-cpp 3.21.1 (src/test/llama-cpp.ts). llama.cpp loads the files our test writer
 * produces and must compute, tokenize and render what Cerberus does.
 */
import { describe, expect, it } from 'vitest'
import { llamaMetadata, llamaTensors, stories260KGguf, storiesCheckpoint, storiesTokenizerMetadata } from '../../test/stories-gguf.ts'
import { SKIP_LLAMA_CPP, llamaCpp, loadModel, referenceGreedy, referenceRenderTemplate, referenceTop1, tempGguf } from '../../test/llama-cpp.ts'
import { SMOLLM2_CHAT_TEMPLATE, smollm2Gguf, smollm2VocabGguf } from '../../test/smollm2-fixture.ts'
import { writeGguf, type WritableType } from '../../test/gguf-writer.ts'
import { encodeChat, renderChat, type ChatMessage } from './chat-template.ts'
import { parseCheckpoint, type Checkpoint } from './checkpoint.ts'
import { createEngine, f32Engine } from './engines.ts'
import type { LogitsEngine } from './generate.ts'
import { parseGguf } from './gguf.ts'
import { ggufTokenizer } from './gguf-tokenizer.ts'
import { GGML_TYPES } from './gguf-types.ts'
import { loadModelBytes } from './load-model.ts'
import { argmax } from './sampler.ts'
import { syntheticCheckpoint } from '../../test/fixtures.ts'

/** Greedy tokens after `prompt`, never stopping early (the comparison ignores stop tokens). */
function greedy (engine: LogitsEngine, prompt: readonly number[], steps: number): number[] {
  const seq = [...prompt]
  const out: number[] = []
  for (let pos = 0; out.length < steps; pos++) {
    const logits = engine.forward(seq[pos], pos)
    if (pos >= prompt.length - 1) { const t = argmax(logits); out.push(t); seq.push(t) }
  }
  return out
}

/** Teacher-forced most likely next tokens. */
function top1 (engine: LogitsEngine, tokens: readonly number[]): number[] {
  return tokens.map((t, pos) => argmax(engine.forward(t, pos)))
}

const agreement = (a: readonly number[], b: readonly number[]): number => a.filter((t, i) => t === b[i]).length / a.length
const commonPrefix = (a: readonly number[], b: readonly number[]): number => { let n = 0; while (n < a.length && a[n] === b[n]) n++; return n }

/** Strings that trip tokenizers: spaces, newlines, digits, unicode, emoji, contractions, special tokens. */
const TRICKY = [
  'Hello world', "I'm here, you're there, he'd've", "DON'T SHOUT", '  two  spaces   three', 'trailing   ', '\n\nnewlines\n \n',
  'tabs\t\tand\r\nCRLF', 'digits 1234567 and 3.14159', '½ ² ٣ 七', 'Ünïcödé façade — “quotes”', '日本語のテキストです。中文也可以。한국어',
  'emoji 🙂😀👍🏽 ❤️ 👨‍👩‍👧 🇫🇷', 'code: const x = (a, b) => a + b; // ok', 'mixed<|im_start|>user\nhi<|im_end|>', '<|endoftext|>',
  'zero\u200bwidth\u00a0nbsp\u3000ideographic\u0085nel\ufeffbom', '', ' ', 'a', '\u0301combining', `${'x'.repeat(300)} ${'9'.repeat(50)}`,
  'Привет, мир!', 'ﬁ ligature ＡＢＣ fullwidth', '$100 @user #tag 50% a&b <tag/>'
]

describe.skipIf(SKIP_LLAMA_CPP)('llama.cpp as the independent reference', () => {
  it('agrees on the block and byte sizes of every ggml type', async () => {
    const b = (await llamaCpp() as unknown as { _bindings: { getBlockSizeForGgmlType: (t: number) => number, getTypeSizeForGgmlType: (t: number) => number } })._bindings
    for (const t of GGML_TYPES) expect([t.name, b.getBlockSizeForGgmlType(t.id), b.getTypeSizeForGgmlType(t.id)]).toEqual([t.name, t.blockSize, t.typeSize])
  })

  describe('stories260K as F32 GGUF', () => {
    const bytes = stories260KGguf()
    const { ckpt, tokenizer } = loadModelBytes(bytes)
    const path = tempGguf('stories260K-f32', bytes)

    it('gives the same 400 greedy tokens in Cerberus\'s f32 engine and in llama.cpp, from a prompt and from BOS', async () => {
      const model = await loadModel(path)
      for (const prompt of [tokenizer.encode('Once upon a time'), [tokenizer.bosId]]) {
        const ref = await referenceGreedy(model, prompt, 400)
        const ours = greedy(createEngine('f32', ckpt), prompt, 400)
        expect(commonPrefix(ours, ref)).toBe(400)
      }
      await model.dispose()
    })

    it('tokenizes as llama.cpp does', async () => {
      const model = await loadModel(path, true)
      for (const s of [...TRICKY.filter(s => !s.includes('<|')), 'Once upon a time', '<s> hi </s>']) expect([s, tokenizer.encode(s, { bos: false })]).toEqual([s, [...model.tokenize(s)]])
      await model.dispose()
    })

    it('uses llama.rope.freq_base as llama.cpp does (300 greedy tokens at θ = 100000; θ = 10000 would differ)', async () => {
      const b = stories260KGguf({ ropeTheta: 100000 })
      const model = await loadModel(tempGguf('stories260K-theta', b))
      const prompt = tokenizer.encode('Once upon a time')
      const ref = await referenceGreedy(model, prompt, 300)
      expect(commonPrefix(greedy(createEngine('f32', loadModelBytes(b).ckpt), prompt, 300), ref)).toBe(300)
      expect(commonPrefix(greedy(createEngine('f32', ckpt), prompt, 300), ref)).toBeLessThan(300)
      await model.dispose()
    })
  })

  describe('quantized tensors dequantize as llama.cpp reads them', () => {
    // llama.cpp computes with the quantized weights (and quantized activations), Cerberus
    // with the dequantized floats, so logits differ slightly: compare the most likely token
    // at each position of a fixed text (a wrong dequantizer agrees ~1/vocab of the time).
    const seq = [1, ...greedy(f32Engine(storiesCheckpoint()), [1], 255)]
    for (const type of ['F16', 'BF16', 'Q8_0', 'Q4_0'] as const) {
      it(`${type} stories260K: the same most likely token at ≥ 97 % of 256 positions`, async () => {
        const b = stories260KGguf({ type })
        const model = await loadModel(tempGguf(`stories260K-${type}`, b))
        const a = agreement(top1(f32Engine(loadModelBytes(b).ckpt), seq), await referenceTop1(model, seq))
        expect(a).toBeGreaterThanOrEqual(0.97)
        await model.dispose()
      })
    }

    it('Q4_K (a 256-wide synthetic model, since Q4_K needs rows of 256; random weights have near-ties): ≥ 90 % of 128 positions', async () => {
      const ckpt = parseCheckpoint(syntheticCheckpoint({ dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 512, seqLen: 256, shared: true }, 3))
      const b = llamaGguf(ckpt, 'Q4_K')
      const model = await loadModel(tempGguf('synthetic-q4k', b))
      const s = [1, ...greedy(f32Engine(ckpt), [1], 127)]
      const ref = await referenceTop1(model, s)
      const a = agreement(top1(f32Engine(loadModelBytes(b).ckpt), s), ref)
      expect(a).toBeGreaterThanOrEqual(0.9)
      // Control: the unquantized weights agree far less, so the agreement comes from reading Q4_K as llama.cpp does.
      expect(a - agreement(top1(f32Engine(ckpt), s), ref)).toBeGreaterThan(0.2)
      await model.dispose()
    })

    // llama.cpp dequantizes embedding rows exactly (get_rows); with the attention and FFN
    // outputs zeroed, its embedding output is RMSNorm(row), so our rows can be compared value by value.
    const base = parseCheckpoint(syntheticCheckpoint({ dim: 256, hiddenDim: 512, nLayers: 1, nHeads: 4, nKvHeads: 2, vocabSize: 512, seqLen: 64, shared: true }, 5))
    const passThrough: Checkpoint = { config: base.config, weights: { ...base.weights, wo: new Float32Array(base.weights.wo.length), w2: new Float32Array(base.weights.w2.length), rmsFinal: new Float32Array(256).fill(1) } }
    for (const type of ['F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_K'] as const) {
      it(`${type}: every value of the dequantized embedding rows equals llama.cpp's (to float rounding)`, async () => {
        const b = llamaGguf(passThrough, type)
        const model = await loadModel(tempGguf(`rows-${type}`, b))
        const ctx = await model.createEmbeddingContext({ contextSize: 64, threads: 1 })
        const rows = loadModelBytes(b).ckpt.weights.tokenEmbedding
        for (const t of [0, 5, 77, 300, 511]) {
          const ref = (await ctx.getEmbeddingFor([t] as never)).vector
          const row = rows.subarray(t * 256, (t + 1) * 256)
          const inv = 1 / Math.sqrt(row.reduce((a, v) => a + v * v, 0) / 256 + 1e-5)
          for (let i = 0; i < 256; i++) expect(Math.abs(ref[i] - row[i] * inv)).toBeLessThan(1e-5)
        }
        await ctx.dispose()
        await model.dispose()
      })
    }
  })

  describe('the SmolLM2-shaped fixture (byte-level BPE, 49,152 tokens)', () => {
    for (const pre of ['smollm', 'qwen2', 'gpt-2', 'llama-bpe', 'default']) {
      it(`tokenizes ${TRICKY.length} tricky strings as llama.cpp does, with and without special tokens, and decodes back to its text (pre-tokenizer ${pre})`, async () => {
        const bytes = smollm2VocabGguf({ pre })
        const tok = ggufTokenizer(parseGguf(bytes), 49152)
        const model = await loadModel(tempGguf(`smollm2-vocab-${pre}`, bytes), true)
        for (const special of [false, true]) {
          for (const s of TRICKY) {
            const ours = tok.encode(s, { bos: false, special })
            expect([s, special, ours]).toEqual([s, special, [...model.tokenize(s, special)]])
            const printed = new TextDecoder().decode(Buffer.concat(ours.map(t => tok.decode(-1, t))))
            expect(printed).toBe(model.detokenize(ours as never, false))
          }
        }
        await model.dispose()
      })
    }

    const chats: ChatMessage[][] = [
      [{ role: 'user', content: 'Hi!' }],
      [{ role: 'system', content: 'You answer in French.' }, { role: 'user', content: 'How are you?' }],
      [{ role: 'user', content: 'Tell me a joke 🙂' }, { role: 'assistant', content: "Why don't eggs tell jokes? They'd crack up." }, { role: 'user', content: 'Another one,\nplease.' }]
    ]
    it('renders its chat template as llama.cpp\'s own Jinja engine does, into the same token ids', async () => {
      const bytes = smollm2VocabGguf()
      const tok = ggufTokenizer(parseGguf(bytes), 49152)
      const model = await loadModel(tempGguf('smollm2-vocab-chat', bytes), true)
      for (const messages of chats) {
        for (const addGenerationPrompt of [true, false]) {
          const ours = renderChat(tok, messages, { addGenerationPrompt })
          const ref = await referenceRenderTemplate(SMOLLM2_CHAT_TEMPLATE, { messages, add_generation_prompt: addGenerationPrompt, bos_token: '<|im_start|>', eos_token: '<|im_end|>' })
          expect(ours).toBe(ref)
          expect(encodeChat(tok, messages, { addGenerationPrompt })).toEqual([...model.tokenize(ref, true)])
        }
      }
      await model.dispose()
    })

    it('loads at full shape (Q8_0, random weights) and predicts as llama.cpp does', async () => {
      const bytes = smollm2Gguf()
      const { ckpt, tokenizer, format } = loadModelBytes(bytes, undefined, { maxContext: 64 })
      expect(format).toBe('gguf')
      expect(ckpt.config).toMatchObject({ dim: 576, hiddenDim: 1536, nLayers: 30, nHeads: 9, nKvHeads: 3, vocabSize: 49152, headSize: 64, kvDim: 192, sharedClassifier: true, ropeTheta: 100000 })
      const model = await loadModel(tempGguf('smollm2-full', bytes))
      const prompt = encodeChat(tokenizer, [{ role: 'user', content: 'Hello, how are you today?' }])
      const a = agreement(top1(f32Engine(ckpt), prompt), await referenceTop1(model, prompt))
      expect(a).toBeGreaterThanOrEqual(0.9)
      await model.dispose()
    }, 300_000)
  })
})

/** A llama GGUF of a checkpoint with the tok512 vocabulary, 2-D weights stored as `type`. */
function llamaGguf (ckpt: Checkpoint, type: WritableType): Uint8Array {
  return writeGguf({ metadata: [...llamaMetadata(ckpt, 'synthetic'), ...storiesTokenizerMetadata()], tensors: llamaTensors(ckpt, type) })
}
