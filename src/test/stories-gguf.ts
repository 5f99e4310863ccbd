/**
 * Test fixture: stories260K (llama2.c checkpoint + tok512 tokenizer) written as a llama
 * GGUF file, the way llama.cpp's converters lay a Llama model out — verified by loading it
 * in llama.cpp (gguf-reference.test.ts), not by our reader alone.
 *
 * Conversion facts (issue 15, measured with node-llama-cpp): llama2.c weights are already in
 * the RoPE layout llama.cpp's LLAMA_ROPE_TYPE_NORM rotates (adjacent pairs), so q/k are
 * written as they are (the Hugging Face permutation breaks the model from position 1 on);
 * the classifier is tied, so `output.weight` is omitted; pieces are written with "▁" for
 * spaces, <unk> as UNKNOWN, <s> and </s> as CONTROL, <0xXX> as BYTE.
 */
import { parseCheckpoint, type Checkpoint } from '../core/model/checkpoint.ts'
import type { GgufValue } from '../core/model/gguf.ts'
import { ggmlTypeByName } from '../core/model/gguf-types.ts'
import { parseTokenizer } from '../core/model/tokenizer.ts'
import { stories260K } from './fixtures.ts'
import { gv, writeGguf, type TensorSpec, type WritableType } from './gguf-writer.ts'

/** GGUF token types (llama.cpp `llama_token_type`). */
export const TOKEN_TYPE = Object.freeze({ NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 })

/** Options of {@link stories260KGguf}. */
export interface StoriesGgufOptions {
  /** Storage of the 2-D weights (1-D norms stay F32, as llama-quantize keeps them). Default F32. */
  readonly type?: WritableType
  /** Written as llama.rope.freq_base when given. */
  readonly ropeTheta?: number
  /** Extra or replacing metadata (a key given here replaces the default one). */
  readonly metadata?: ReadonlyArray<readonly [string, GgufValue]>
  /** Tensor names to leave out. */
  readonly omitTensors?: readonly string[]
  /** Metadata keys to leave out. */
  readonly omitKeys?: readonly string[]
  /** Tensors to add. */
  readonly extraTensors?: readonly TensorSpec[]
}

/** The stories260K checkpoint (parsed from the real file). */
export function storiesCheckpoint (): Checkpoint {
  return parseCheckpoint(stories260K().model)
}

/** llama-quantize's rule, simplified: a 2-D tensor whose rows are not whole blocks falls back to F16. */
function storageFor (type: WritableType, dims: readonly number[]): WritableType {
  if (dims.length < 2) return 'F32'
  const block = ggmlTypeByName(type)?.blockSize ?? 1
  return dims[0] % block === 0 ? type : 'F16'
}

/** The tokenizer metadata of tok512 in GGUF form (SentencePiece-style "llama" vocabulary). */
export function storiesTokenizerMetadata (): Array<readonly [string, GgufValue]> {
  const tok = parseTokenizer(stories260K().tokenizer, 512)
  const dec = new TextDecoder('utf-8', { fatal: true })
  const tokens = tok.pieces.map((p, i) => i === 0 ? '<unk>' : i === 1 ? '<s>' : i === 2 ? '</s>' : dec.decode(p).replaceAll(' ', '▁'))
  const types = tokens.map((_, i) => i === 0 ? TOKEN_TYPE.UNKNOWN : i <= 2 ? TOKEN_TYPE.CONTROL : i < 259 ? TOKEN_TYPE.BYTE : TOKEN_TYPE.NORMAL)
  return [
    ['tokenizer.ggml.model', gv.str('llama')],
    ['tokenizer.ggml.tokens', gv.strings(tokens)],
    ['tokenizer.ggml.scores', gv.f32s(tok.scores)],
    ['tokenizer.ggml.token_type', gv.i32s(types)],
    ['tokenizer.ggml.bos_token_id', gv.u32(1)],
    ['tokenizer.ggml.eos_token_id', gv.u32(2)],
    ['tokenizer.ggml.unknown_token_id', gv.u32(0)],
    ['tokenizer.ggml.add_bos_token', gv.bool(true)],
    ['tokenizer.ggml.add_eos_token', gv.bool(false)]
  ]
}

/** Every tensor of a checkpoint under llama.cpp's names, stored as `type` where the shape allows. */
export function llamaTensors (ckpt: Checkpoint, type: WritableType): TensorSpec[] {
  const c = ckpt.config
  const w = ckpt.weights
  const { dim, kvDim, hiddenDim } = c
  const out: TensorSpec[] = []
  const add = (name: string, dims: number[], data: Float32Array): void => { out.push({ name, dims, type: storageFor(type, dims), data }) }
  add('token_embd.weight', [dim, c.vocabSize], w.tokenEmbedding)
  for (let l = 0; l < c.nLayers; l++) {
    const sl = (a: Float32Array, n: number): Float32Array => a.subarray(l * n, (l + 1) * n)
    add(`blk.${l}.attn_norm.weight`, [dim], sl(w.rmsAtt, dim))
    add(`blk.${l}.attn_q.weight`, [dim, dim], sl(w.wq, dim * dim))
    add(`blk.${l}.attn_k.weight`, [dim, kvDim], sl(w.wk, kvDim * dim))
    add(`blk.${l}.attn_v.weight`, [dim, kvDim], sl(w.wv, kvDim * dim))
    add(`blk.${l}.attn_output.weight`, [dim, dim], sl(w.wo, dim * dim))
    add(`blk.${l}.ffn_norm.weight`, [dim], sl(w.rmsFfn, dim))
    add(`blk.${l}.ffn_gate.weight`, [dim, hiddenDim], sl(w.w1, hiddenDim * dim))
    add(`blk.${l}.ffn_down.weight`, [hiddenDim, dim], sl(w.w2, dim * hiddenDim))
    add(`blk.${l}.ffn_up.weight`, [dim, hiddenDim], sl(w.w3, hiddenDim * dim))
  }
  add('output_norm.weight', [dim], w.rmsFinal)
  if (!c.sharedClassifier) add('output.weight', [dim, c.vocabSize], w.wcls)
  return out
}

/** The llama.* hyper-parameter keys of a checkpoint. */
export function llamaMetadata (ckpt: Checkpoint, name: string): Array<readonly [string, GgufValue]> {
  const c = ckpt.config
  return [
    ['general.architecture', gv.str('llama')],
    ['general.name', gv.str(name)],
    ['llama.context_length', gv.u32(c.seqLen)],
    ['llama.embedding_length', gv.u32(c.dim)],
    ['llama.block_count', gv.u32(c.nLayers)],
    ['llama.feed_forward_length', gv.u32(c.hiddenDim)],
    ['llama.attention.head_count', gv.u32(c.nHeads)],
    ['llama.attention.head_count_kv', gv.u32(c.nKvHeads)],
    ['llama.rope.dimension_count', gv.u32(c.headSize)],
    ['llama.attention.layer_norm_rms_epsilon', gv.f32(1e-5)],
    ['llama.vocab_size', gv.u32(c.vocabSize)]
  ]
}

/** Merge metadata lists: later keys replace earlier ones, `omit` keys are dropped. */
export function mergeMetadata (base: ReadonlyArray<readonly [string, GgufValue]>, extra: ReadonlyArray<readonly [string, GgufValue]>, omit: readonly string[] = []): Array<readonly [string, GgufValue]> {
  const m = new Map<string, GgufValue>(base)
  for (const [k, v] of extra) m.set(k, v)
  for (const k of omit) m.delete(k)
  return [...m]
}

/** stories260K as a GGUF file. */
export function stories260KGguf (opts: StoriesGgufOptions = {}): Uint8Array {
  const ckpt = storiesCheckpoint()
  const extra: Array<readonly [string, GgufValue]> = [...(opts.metadata ?? [])]
  if (opts.ropeTheta !== undefined) extra.unshift(['llama.rope.freq_base', gv.f32(opts.ropeTheta)])
  const metadata = mergeMetadata([...llamaMetadata(ckpt, 'stories260K'), ...storiesTokenizerMetadata()], extra, opts.omitKeys)
  const omit = new Set(opts.omitTensors ?? [])
  const tensors = [...llamaTensors(ckpt, opts.type ?? 'F32').filter(t => !omit.has(t.name)), ...(opts.extraTensors ?? [])]
  return writeGguf({ metadata, tensors })
}
