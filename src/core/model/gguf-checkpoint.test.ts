import { describe, expect, it } from 'vitest'
import { gv } from '../../test/gguf-writer.ts'
import { stories260KGguf, storiesCheckpoint } from '../../test/stories-gguf.ts'
import golden from './testdata/runc-golden.json' with { type: 'json' }
import { createEngine } from './engines.ts'
import { GgufFormatError, UnsupportedModelError } from './errors.ts'
import { generate } from './generate.ts'
import { parseGguf } from './gguf.ts'
import { ggufCheckpoint } from './gguf-checkpoint.ts'
import { loadModelBytes } from './load-model.ts'
import { createRng } from './rng.ts'
import { createSampler } from './sampler.ts'

const bin = storiesCheckpoint()
const gguf = loadModelBytes(stories260KGguf())

describe('stories260K written as GGUF', () => {
  it('loads as the same checkpoint, bit for bit', () => {
    expect(gguf.format).toBe('gguf')
    expect(gguf.name).toBe('stories260K')
    expect(gguf.ckpt.config).toEqual(bin.config)
    for (const [k, v] of Object.entries(bin.weights)) expect(gguf.ckpt.weights[k as keyof typeof bin.weights]).toEqual(v)
    expect(gguf.ckpt.weights.wcls).toBe(gguf.ckpt.weights.tokenEmbedding)
  })

  for (const c of golden.generate) {
    it(`prints exactly what run.c prints for the .bin: -t ${c.temperature} -s ${c.seed} -n ${c.steps} -i ${JSON.stringify(c.prompt)}`, () => {
      const sampler = createSampler({ temperature: c.temperature, topp: c.topp }, createRng(c.seed))
      const out = [...generate(createEngine('f32', gguf.ckpt), gguf.tokenizer, sampler, { prompt: c.prompt, steps: c.steps })]
      expect(Buffer.concat([...out.map(t => t.bytes), Buffer.from('\n')]).toString('base64')).toBe(c.stdout)
    })
  }

  it('takes an untied classifier from output.weight', () => {
    const w = bin.weights.tokenEmbedding.map(x => -x)
    const f = ggufCheckpoint(parseGguf(stories260KGguf({ extraTensors: [{ name: 'output.weight', dims: [64, 512], type: 'F32', data: w }] })))
    expect(f.config.sharedClassifier).toBe(false)
    expect(f.weights.wcls).toEqual(w)
    expect(f.weights.tokenEmbedding).toEqual(bin.weights.tokenEmbedding)
  })

  it('reads llama.rope.freq_base into the config (absent means 10000)', () => {
    expect(gguf.ckpt.config.ropeTheta).toBeUndefined()
    expect(ggufCheckpoint(parseGguf(stories260KGguf({ ropeTheta: 10000 }))).config.ropeTheta).toBeUndefined()
    expect(ggufCheckpoint(parseGguf(stories260KGguf({ ropeTheta: 100000 }))).config.ropeTheta).toBe(100000)
  })

  it('caps the context when asked (the KV cache follows)', () => {
    expect(ggufCheckpoint(parseGguf(stories260KGguf()), { maxContext: 128 }).config.seqLen).toBe(128)
    expect(ggufCheckpoint(parseGguf(stories260KGguf()), { maxContext: 4096 }).config.seqLen).toBe(512)
  })
})

describe('ggufCheckpoint refuses what the forward pass does not compute', () => {
  const str = (k: string, v: string): [string, ReturnType<typeof gv.str>] => [k, gv.str(v)]
  const unsupported: Array<[string, Parameters<typeof stories260KGguf>[0], RegExp]> = [
    ['Qwen2', { metadata: [str('general.architecture', 'qwen2')] }, /architecture is "qwen2".*Qwen2 needs q\/k\/v biases, NEOX RoPE/],
    ['another architecture', { metadata: [str('general.architecture', 'gemma')] }, /architecture is "gemma"; Cerberus runs general.architecture = "llama"/],
    ['RoPE scaling', { metadata: [str('llama.rope.scaling.type', 'linear'), ['llama.rope.scaling.factor', gv.f32(4)]] }, /uses RoPE scaling \(linear, factor 4\)/],
    ['YaRN without a type', { metadata: [['llama.rope.scaling.factor', gv.f32(8)]] }, /RoPE scaling \(type unset, factor 8\)/],
    ['partial RoPE', { metadata: [['llama.rope.dimension_count', gv.u32(4)]] }, /rotates 4 of each head's 8 dimensions/],
    ['experts', { metadata: [['llama.expert_count', gv.u32(8)]] }, /mixture of 8 experts/],
    ['RMSNorm ε 1e-6', { metadata: [['llama.attention.layer_norm_rms_epsilon', gv.f32(1e-6)]] }, /RMSNorm epsilon is 9\.99.*e-7; Cerberus's forward pass uses 1e-5/],
    ['a head size other than dim / heads', { metadata: [['llama.attention.key_length', gv.u32(16)]] }, /key_length is 16, not embedding_length \/ head_count = 8/],
    ['per-layer head counts', { metadata: [['llama.attention.head_count', gv.i32s([8, 8, 8, 8, 8])]] }, /different number of attention heads per layer/],
    ['q/k/v biases', { extraTensors: [{ name: 'blk.0.attn_q.bias', dims: [64], type: 'F32', data: new Float32Array(64) }] }, /tensors the llama forward pass does not use: blk.0.attn_q.bias \(linear-layer biases are not supported\)/],
    ['Llama 3.1 rope factors', { extraTensors: [{ name: 'rope_freqs.weight', dims: [4], type: 'F32', data: new Float32Array(4) }] }, /does not use: rope_freqs.weight/]
  ]
  for (const [what, opts, message] of unsupported) {
    it(`refuses ${what} with an UnsupportedModelError`, () => {
      const f = parseGguf(stories260KGguf(opts))
      expect(() => ggufCheckpoint(f)).toThrow(UnsupportedModelError)
      expect(() => ggufCheckpoint(f)).toThrow(message)
    })
  }

  it('refuses a tensor type it does not read, naming the tensor', () => {
    const f = parseGguf(stories260KGguf({ omitTensors: ['blk.2.attn_q.weight'], extraTensors: [{ name: 'blk.2.attn_q.weight', dims: [64, 64], typeId: 6, raw: new Uint8Array(64 * 2 * 22) }] }))
    expect(() => ggufCheckpoint(f)).toThrow(/tensor "blk.2.attn_q.weight" is Q5_0, which Cerberus does not read/)
  })

  const malformed: Array<[string, Parameters<typeof stories260KGguf>[0], RegExp]> = [
    ['no architecture', { omitKeys: ['general.architecture'] }, /has no metadata "general.architecture"/],
    ['no block count', { omitKeys: ['llama.block_count'] }, /has no metadata "llama.block_count"/],
    ['a block count of the wrong type', { metadata: [['llama.block_count', gv.str('5')]] }, /metadata "llama.block_count" is string, expected an integer/],
    ['a missing tensor', { omitTensors: ['blk.4.ffn_up.weight'] }, /no tensor "blk.4.ffn_up.weight"/],
    ['no embedding', { omitTensors: ['token_embd.weight'] }, /no tensor "token_embd.weight"/],
    ['a tensor of the wrong shape', { omitTensors: ['blk.1.attn_k.weight'], extraTensors: [{ name: 'blk.1.attn_k.weight', dims: [64, 64], type: 'F32', data: new Float32Array(64 * 64) }] }, /tensor "blk.1.attn_k.weight" has shape \[64, 64\], expected \[64, 32\]/],
    ['a vocab_size that disagrees', { metadata: [['llama.vocab_size', gv.u32(513)]] }, /vocab_size is 513 but token_embd has 512 rows/],
    ['heads that do not divide dim', { metadata: [['llama.attention.head_count', gv.u32(7)]] }, /embedding_length 64 is not a multiple of head_count 7/],
    ['an absurd block count', { metadata: [['llama.block_count', gv.u32(1 << 20)]] }, /block_count = 1048576 is outside \[1, 1024\]/],
    ['a rope base of 0', { metadata: [['llama.rope.freq_base', gv.f32(0)]] }, /rope.freq_base = 0 is not a RoPE base/]
  ]
  for (const [what, opts, message] of malformed) {
    it(`refuses ${what} with a GgufFormatError`, () => {
      const f = parseGguf(stories260KGguf(opts))
      expect(() => ggufCheckpoint(f)).toThrow(GgufFormatError)
      expect(() => ggufCheckpoint(f)).toThrow(message)
    })
  }

  it('refuses a non-finite weight', () => {
    const data = new Float32Array(64).fill(1)
    data[5] = Infinity
    const f = parseGguf(stories260KGguf({ omitTensors: ['output_norm.weight'], extraTensors: [{ name: 'output_norm.weight', dims: [64], type: 'F32', data }] }))
    expect(() => ggufCheckpoint(f)).toThrow(/tensor "output_norm.weight" has a non-finite value \(Infinity\) at index 5/)
  })
})
