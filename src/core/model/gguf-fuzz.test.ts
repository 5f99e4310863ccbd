import { describe, expect, it } from 'vitest'
import { gv, writeGguf, type TensorSpec } from '../../test/gguf-writer.ts'
import { CerberusError } from '../errors.ts'
import { prng } from '../prng.ts'
import { loadModelBytes } from './load-model.ts'

// A complete, valid llama GGUF small enough to mutate thousands of times: 8-dim, 1 layer,
// a 265-token SentencePiece-style vocabulary, plus a BPE-typed twin, plus every value type.
const VOCAB = ['<unk>', '<s>', '</s>', ...Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`), '▁', 'a', '▁a', 'b', 'ab', '▁ab']
const TYPES = VOCAB.map((_, i) => i === 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1)

function tinyModel (type: 'F32' | 'Q8_0', extra: Array<[string, ReturnType<typeof gv.str>]> = []): Uint8Array {
  const rand = prng(9)
  const t = (name: string, dims: number[], ty: 'F32' | 'Q8_0' = type): TensorSpec => ({ name, dims, type: dims[0] % 32 === 0 ? ty : 'F32', data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand() - 0.5) })
  return writeGguf({
    metadata: [
      ['general.architecture', gv.str('llama')],
      ['llama.context_length', gv.u32(16)], ['llama.embedding_length', gv.u32(32)], ['llama.block_count', gv.u32(1)],
      ['llama.feed_forward_length', gv.u32(32)], ['llama.attention.head_count', gv.u32(4)], ['llama.attention.head_count_kv', gv.u32(2)],
      ['tokenizer.ggml.model', gv.str('llama')], ['tokenizer.ggml.tokens', gv.strings(VOCAB)],
      ['tokenizer.ggml.scores', gv.f32s(VOCAB.map((_, i) => -i))], ['tokenizer.ggml.token_type', gv.i32s(TYPES)],
      ['tokenizer.ggml.bos_token_id', gv.u32(1)], ['tokenizer.ggml.eos_token_id', gv.u32(2)],
      ['test.nested', { type: 'array', itemType: 'array', value: [gv.i32s([1, 2]), gv.strings(['x'])] }],
      ['test.u64', gv.u64(7)], ['test.bool', gv.bool(true)],
      ...extra
    ],
    tensors: [
      t('token_embd.weight', [32, VOCAB.length]), t('output_norm.weight', [32]),
      t('blk.0.attn_norm.weight', [32]), t('blk.0.attn_q.weight', [32, 32]), t('blk.0.attn_k.weight', [32, 16]), t('blk.0.attn_v.weight', [32, 16]),
      t('blk.0.attn_output.weight', [32, 32]), t('blk.0.ffn_norm.weight', [32]), t('blk.0.ffn_gate.weight', [32, 32]),
      t('blk.0.ffn_down.weight', [32, 32]), t('blk.0.ffn_up.weight', [32, 32])
    ]
  })
}

/** Edge values for 64- and 32-bit fields: counts and lengths a hostile header would claim. */
const EDGES = [0n, 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 4096n, 1n << 24n]

function mutate (base: Uint8Array, rand: () => number): Uint8Array {
  const pick = (n: number): number => Math.floor(rand() * n)
  let b = base.slice()
  switch (pick(6)) {
    case 0: for (let i = 1 + pick(8); i > 0; i--) b[pick(b.length)] ^= 1 << pick(8); break
    case 1: { const at = pick(Math.min(b.length - 8, 4096)); new DataView(b.buffer).setBigUint64(at, EDGES[pick(EDGES.length)], true); break }
    case 2: { const at = pick(Math.min(b.length - 4, 4096)); new DataView(b.buffer).setUint32(at, Number(EDGES[pick(EDGES.length)] & 0xffffffffn), true); break }
    case 3: b = b.slice(0, pick(b.length)); break
    case 4: { const at = pick(b.length); const n = 1 + pick(16); b = Uint8Array.from([...b.subarray(0, at), ...Array.from({ length: n }, () => pick(256)), ...b.subarray(at)]); break }
    default: { const n = 8 + pick(512); b = Uint8Array.from({ length: n }, (_, i) => i < 8 ? base[i] : pick(256)) }
  }
  return b
}

describe('fuzzed GGUF files: a typed error or a valid model, nothing else', () => {
  const bases = [tinyModel('F32'), tinyModel('Q8_0'), tinyModel('F32', [['tokenizer.ggml.model', gv.str('gpt2')]])]

  it('the unmutated files load (the fuzz starts from valid models)', () => {
    expect(loadModelBytes(bases[0]).ckpt.config.dim).toBe(32)
    expect(loadModelBytes(bases[1]).tokenizer.encode('ab ab')).toEqual([1, 264, 264])
    expect(() => loadModelBytes(bases[2])).toThrow(CerberusError)
  })

  it('3,000 mutated headers, tensor tables and data', () => {
    const rand = prng(20261201)
    const outcomes = { loaded: 0, refused: 0 }
    for (let i = 0; i < 3000; i++) {
      const bytes = mutate(bases[i % bases.length], rand)
      try {
        const m = loadModelBytes(bytes)
        m.tokenizer.encode('ab a\u00e9')
        outcomes.loaded++
      } catch (err) {
        if (!(err instanceof CerberusError)) throw new Error(`case ${i}: ${String(err)} is not a typed error`, { cause: err })
        outcomes.refused++
      }
    }
    expect(outcomes.refused).toBeGreaterThan(1000)
    expect(outcomes.loaded).toBeGreaterThan(100)
  })

  it('headers that claim 2^24 items or 2^60 bytes are refused before anything is allocated', () => {
    const b = tinyModel('F32')
    const dv = new DataView(b.buffer)
    dv.setBigUint64(8, 1n << 60n, true)
    expect(() => loadModelBytes(b)).toThrow(/tensor count is out of range/)
  })
})
