/**
 * Byte-level BPE pre-tokenizers: the regular expressions that cut text into words before
 * merges apply, per GGUF `tokenizer.ggml.pre`, as llama.cpp applies them
 * (ggml-org/llama.cpp src/llama-vocab.cpp `llm_tokenizer_bpe`, src/unicode.cpp
 * `unicode_regex_split`): each expression of a list splits every piece the previous one
 * produced, keeping the text between matches as pieces too.
 *
 * `\s` is spelled out as Unicode White_Space (the set llama.cpp's tables and the Hugging
 * Face tokenizers use); JavaScript's own `\s` also matches U+FEFF and misses U+0085.
 */
import { UnsupportedModelError } from './errors.ts'

/** Unicode White_Space, for a character class. */
const WS = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
const S = `[${WS}]`
const NOT_S = `[^${WS}]`

/** GPT-2's expression (`'s|'t|… ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`). */
const GPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|${S}+(?!${NOT_S})`
/** Qwen2's (and Llama 3's, with \p{N}{1,3}): case-insensitive contractions, digits apart. */
const qwenLike = (digits: string): string =>
  `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}${digits}| ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*|${S}*[\\r\\n]+|${S}+(?!${NOT_S})|${S}+`

/** A pre-tokenizer: its expressions, and whether a whole word found in the vocabulary skips merging (llama.cpp `ignore_merges`). */
export interface PreTokenizer {
  readonly expressions: readonly RegExp[]
  readonly ignoreMerges: boolean
}

const make = (sources: string[], ignoreMerges = false): PreTokenizer => Object.freeze({ expressions: sources.map(s => new RegExp(s, 'gu')), ignoreMerges })

/**
 * The `tokenizer.ggml.pre` values Cerberus reads, with llama.cpp's expressions for them:
 * smollm (SmolLM, SmolLM2; also StarCoder's), qwen2 (Qwen2, Qwen2.5), gpt-2, llama-bpe
 * (Llama 3), and llama.cpp's "default".
 */
export const PRE_TOKENIZERS: Readonly<Record<string, PreTokenizer>> = Object.freeze({
  smollm: make(['\\p{N}', GPT2]),
  starcoder: make(['\\p{N}', GPT2]),
  qwen2: make([qwenLike('')]),
  'gpt-2': make([GPT2]),
  'llama-bpe': make([qwenLike('{1,3}')], true),
  default: make(['[\\p{P}\\$\\+<=>\\^~\\|]+', GPT2, '\\p{N}+', '[0-9][0-9][0-9]'])
})

/**
 * The pre-tokenizer named by a GGUF file.
 * @throws {UnsupportedModelError} for a name Cerberus does not know (or none).
 */
export function preTokenizer (name: string | undefined): PreTokenizer {
  const p = name === undefined ? undefined : Object.hasOwn(PRE_TOKENIZERS, name) ? PRE_TOKENIZERS[name] : undefined
  if (p === undefined) {
    throw new UnsupportedModelError(`the model's BPE pre-tokenizer ${name === undefined ? 'is not named (tokenizer.ggml.pre is missing; re-convert the model with a current llama.cpp)' : `"${name}" is not one Cerberus knows`}; known: ${Object.keys(PRE_TOKENIZERS).join(', ')}`)
  }
  return p
}

/** Split `text` into words: every expression in turn splits every piece, matches and gaps kept. */
export function preTokenize (p: PreTokenizer, text: string): string[] {
  let pieces = [text]
  for (const re of p.expressions) {
    const next: string[] = []
    for (const piece of pieces) {
      let last = 0
      for (const m of piece.matchAll(re)) {
        if (m.index > last) next.push(piece.slice(last, m.index))
        if (m[0].length > 0) next.push(m[0])
        last = m.index + m[0].length
      }
      if (last < piece.length) next.push(piece.slice(last))
    }
    pieces = next
  }
  return pieces
}
