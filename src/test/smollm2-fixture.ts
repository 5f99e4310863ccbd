/**
 * Test fixture: a synthetic GGUF with SmolLM2-135M-Instruct's shape (576-dim, 30 layers,
 * 9 heads, 3 KV heads, FFN 1536, 49,152-token byte-level BPE vocabulary with merges, RoPE
 * base 100000, tied classifier, its chat template), random weights.
 *
 * The real vocabulary cannot be had offline, so one is trained (bpe-trainer.ts) with
 * SmolLM2's layout — its 17 special tokens first, the 256 byte characters, then 48,879
 * merges — on a pinned multilingual corpus: TypeScript's own lib.*.d.ts and its compiler
 * messages in 13 languages (node_modules/typescript, fixed by the lockfile) plus a line of
 * emoji. Training takes ~a minute, so the result is cached in node_modules/.cache, keyed by
 * the corpus's hash.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ModelConfig } from '../core/model/checkpoint.ts'
import type { GgufValue } from '../core/model/gguf.ts'
import { PRE_TOKENIZERS } from '../core/model/pre-tokenizers.ts'
import { PROJECT_ROOT } from '../node/model-files.ts'
import { prng } from '../core/prng.ts'
import { trainBpe } from './bpe-trainer.ts'
import { ggmlTypeByName } from '../core/model/gguf-types.ts'
import { encodeTensor, gv, writeGguf, type TensorSpec, type WritableType } from './gguf-writer.ts'
import { TOKEN_TYPE } from './stories-gguf.ts'

/** SmolLM2-135M's hyper-parameters (HuggingFaceTB/SmolLM2-135M-Instruct config.json). */
export const SMOLLM2_SHAPE: Omit<ModelConfig, 'headSize' | 'kvDim' | 'sharedClassifier'> & { readonly ropeTheta: number } = Object.freeze({
  dim: 576, hiddenDim: 1536, nLayers: 30, nHeads: 9, nKvHeads: 3, vocabSize: 49152, seqLen: 8192, ropeTheta: 100000
})

/** SmolLM2's special tokens, ids 0–16 (its tokenizer.json added_tokens). */
export const SMOLLM2_SPECIAL_TOKENS: readonly string[] = [
  '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<repo_name>', '<reponame>', '<file_sep>', '<filename>', '<gh_stars>',
  '<issue_start>', '<issue_comment>', '<issue_closed>', '<jupyter_start>', '<jupyter_text>', '<jupyter_code>',
  '<jupyter_output>', '<jupyter_script>', '<empty_output>'
]

/** SmolLM2-135M-Instruct's chat template (tokenizer_config.json `chat_template`). */
export const SMOLLM2_CHAT_TEMPLATE = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

const CACHE_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'cerberus-fixtures')
/** Bump when the trainer or the layout changes, so stale caches are not used. */
const VOCAB_VERSION = 1

function corpus (): string {
  const lib = join(PROJECT_ROOT, 'node_modules', 'typescript', 'lib')
  const parts = ['lib.es5.d.ts', 'lib.dom.d.ts', 'lib.es2015.core.d.ts', 'lib.webworker.d.ts'].map(f => readFileSync(join(lib, f), 'utf8'))
  for (const lang of ['cs', 'de', 'es', 'fr', 'it', 'ja', 'ko', 'pl', 'pt-br', 'ru', 'tr', 'zh-cn', 'zh-tw']) {
    const messages = JSON.parse(readFileSync(join(lib, lang, 'diagnosticMessages.generated.json'), 'utf8')) as Record<string, string>
    parts.push(Object.values(messages).join('\n'))
  }
  parts.push('🙂 😀 👍🏽 ❤️ 🎉 👨‍👩‍👧 🇫🇷 ✨ 🚀 — “quotes” … café naïve\n'.repeat(64))
  return parts.join('\n')
}

/** The fixture's vocabulary: tokens, their GGUF types, and the merges by rank. */
export interface Smollm2Vocabulary {
  readonly tokens: readonly string[]
  readonly types: readonly number[]
  readonly merges: readonly string[]
}

let memo: Smollm2Vocabulary | undefined

/** Train (or read from the cache) the 49,152-token vocabulary. */
export function smollm2Vocabulary (): Smollm2Vocabulary {
  if (memo !== undefined) return memo
  const text = corpus()
  const hash = createHash('sha256').update(`${VOCAB_VERSION}\n`).update(text).digest('hex').slice(0, 16)
  const file = join(CACHE_DIR, `smollm2-bpe-${hash}.json`)
  let trained: { tokens: string[], merges: string[] }
  if (existsSync(file)) {
    trained = JSON.parse(readFileSync(file, 'utf8')) as typeof trained
  } else {
    const merges = SMOLLM2_SHAPE.vocabSize - SMOLLM2_SPECIAL_TOKENS.length - 256
    trained = trainBpe(text, PRE_TOKENIZERS.smollm, merges)
    if (trained.merges.length !== merges) throw new Error(`the corpus gave only ${trained.merges.length} merges of ${merges}`)
    mkdirSync(CACHE_DIR, { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(trained))
    renameSync(tmp, file)
  }
  const tokens = [...SMOLLM2_SPECIAL_TOKENS, ...trained.tokens]
  memo = { tokens, types: tokens.map((_, i) => i < SMOLLM2_SPECIAL_TOKENS.length ? TOKEN_TYPE.CONTROL : TOKEN_TYPE.NORMAL), merges: trained.merges }
  return memo
}

/** The tokenizer and llama.* metadata of the fixture (`pre` replaceable, to test the other pre-tokenizers). */
export function smollm2Metadata (opts: { pre?: string } = {}): Array<readonly [string, GgufValue]> {
  const v = smollm2Vocabulary()
  const s = SMOLLM2_SHAPE
  return [
    ['general.architecture', gv.str('llama')],
    ['general.name', gv.str('SmolLM2-135M-Instruct-shaped fixture (random weights)')],
    ['llama.context_length', gv.u32(s.seqLen)],
    ['llama.embedding_length', gv.u32(s.dim)],
    ['llama.block_count', gv.u32(s.nLayers)],
    ['llama.feed_forward_length', gv.u32(s.hiddenDim)],
    ['llama.attention.head_count', gv.u32(s.nHeads)],
    ['llama.attention.head_count_kv', gv.u32(s.nKvHeads)],
    ['llama.rope.freq_base', gv.f32(s.ropeTheta)],
    ['llama.rope.dimension_count', gv.u32(s.dim / s.nHeads)],
    ['llama.attention.layer_norm_rms_epsilon', gv.f32(1e-5)],
    ['llama.vocab_size', gv.u32(s.vocabSize)],
    ['tokenizer.ggml.model', gv.str('gpt2')],
    ['tokenizer.ggml.pre', gv.str(opts.pre ?? 'smollm')],
    ['tokenizer.ggml.tokens', gv.strings([...v.tokens])],
    ['tokenizer.ggml.token_type', gv.i32s(v.types)],
    ['tokenizer.ggml.merges', gv.strings([...v.merges])],
    ['tokenizer.ggml.bos_token_id', gv.u32(1)],
    ['tokenizer.ggml.eos_token_id', gv.u32(2)],
    ['tokenizer.ggml.unknown_token_id', gv.u32(0)],
    ['tokenizer.ggml.padding_token_id', gv.u32(2)],
    ['tokenizer.ggml.add_bos_token', gv.bool(false)],
    ['tokenizer.chat_template', gv.str(SMOLLM2_CHAT_TEMPLATE)]
  ]
}

/** The vocabulary and template only, no tensors (for tokenizer tests; llama.cpp loads it with vocabOnly). */
export function smollm2VocabGguf (opts: { pre?: string } = {}): Uint8Array {
  return writeGguf({ metadata: smollm2Metadata(opts), tensors: [] })
}

/**
 * The whole fixture with seeded random weights (uniform, σ = 0.02 as GPT-2's init; norm
 * gains 1), 2-D weights stored as `type` (default Q8_0, as the download the registry pins).
 */
export function smollm2Gguf (opts: { type?: WritableType, seed?: number } = {}): Uint8Array {
  const s = SMOLLM2_SHAPE
  const headSize = s.dim / s.nHeads
  const kvDim = s.nKvHeads * headSize
  const rand = prng(opts.seed ?? 1)
  const amp = 2 * Math.sqrt(3) * 0.02
  const random = (n: number): Float32Array => { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = (rand() - 0.5) * amp; return a }
  const type = opts.type ?? 'Q8_0'
  const typeId = ggmlTypeByName(type)?.id ?? 0
  // Encoded one by one, so only the stored bytes stay in memory (540 MB of floats would not).
  const matrix = (name: string, cols: number, rows: number): TensorSpec => ({ name, dims: [cols, rows], typeId, raw: encodeTensor(type, random(cols * rows)) })
  const ones = new Float32Array(s.dim).fill(1)
  const tensors: TensorSpec[] = [matrix('token_embd.weight', s.dim, s.vocabSize)]
  for (let l = 0; l < s.nLayers; l++) {
    tensors.push(
      { name: `blk.${l}.attn_norm.weight`, dims: [s.dim], type: 'F32', data: ones },
      matrix(`blk.${l}.attn_q.weight`, s.dim, s.dim),
      matrix(`blk.${l}.attn_k.weight`, s.dim, kvDim),
      matrix(`blk.${l}.attn_v.weight`, s.dim, kvDim),
      matrix(`blk.${l}.attn_output.weight`, s.dim, s.dim),
      { name: `blk.${l}.ffn_norm.weight`, dims: [s.dim], type: 'F32', data: ones },
      matrix(`blk.${l}.ffn_gate.weight`, s.dim, s.hiddenDim),
      matrix(`blk.${l}.ffn_down.weight`, s.hiddenDim, s.dim),
      matrix(`blk.${l}.ffn_up.weight`, s.dim, s.hiddenDim)
    )
  }
  tensors.push({ name: 'output_norm.weight', dims: [s.dim], type: 'F32', data: ones })
  return writeGguf({ metadata: smollm2Metadata(), tensors })
}
