/**
 * Byte-level BPE (GPT-2's scheme; GGUF `tokenizer.ggml.model = gpt2`, used by SmolLM2 and
 * Qwen2.5), encoding as llama.cpp does (src/llama-vocab.cpp `llm_tokenizer_bpe_session`):
 *
 * 1. special tokens written in the text are cut out first (special-tokens.ts);
 * 2. each stretch of text is split into words by the model's pre-tokenizer (pre-tokenizers.ts);
 * 3. a word's UTF-8 bytes become characters through GPT-2's byte→unicode table (printable
 *    bytes stand for themselves, the others for U+0100…), one symbol per byte;
 * 4. adjacent symbols merge by the rank of their pair in `tokenizer.ggml.merges`, lowest rank
 *    first, the leftmost pair on ties, until no pair has a rank;
 * 5. each symbol is a token; one that is not (a vocabulary with holes) falls back to its bytes' tokens.
 *
 * Decoding maps a token's characters back through the table to bytes; control tokens print
 * nothing, user-defined tokens print their text.
 */
import { TokenizerError } from './errors.ts'
import { preTokenize, type PreTokenizer } from './pre-tokenizers.ts'
import { checkToken } from './sentencepiece.ts'
import { partitionSpecial, specialTokenLists, TOKEN_TYPES } from './special-tokens.ts'
import type { EncodeOptions, Tokenizer } from './tokenizer.ts'

/** GPT-2's `bytes_to_unicode`: byte → the character that stands for it in the vocabulary. */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const out: string[] = new Array(256)
  let n = 0
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)
    out[b] = String.fromCodePoint(printable ? b : 256 + n++)
  }
  return out
})()

const UNICODE_TO_BYTE = new Map(BYTE_TO_UNICODE.map((c, b) => [c, b]))

/** Words cached per tokenizer: prompts repeat words; the bound keeps a long session's memory flat. */
const WORD_CACHE_ENTRIES = 1 << 14

/** What a byte-level BPE tokenizer is made of (from GGUF metadata). */
export interface BpeVocabulary {
  readonly tokens: readonly string[]
  /** GGUF token types per id (special-tokens.ts `TOKEN_TYPES`). */
  readonly types: ArrayLike<number>
  /** "left right" pairs, by rank. */
  readonly merges: readonly string[]
  readonly pre: PreTokenizer
  readonly bosId: number
  readonly eosId: number
  readonly addBos: boolean
  readonly stopIds: ReadonlySet<number>
  readonly chatTemplate?: string
}

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder()

/** A binary min-heap of candidate merges, ordered by (rank, left position). */
class MergeQueue {
  private readonly items: Array<[rank: number, left: number, right: number, text: string]> = []
  get size (): number { return this.items.length }
  private less (a: number, b: number): boolean {
    const x = this.items[a]
    const y = this.items[b]
    return x[0] < y[0] || (x[0] === y[0] && x[1] < y[1])
  }

  private swap (a: number, b: number): void { [this.items[a], this.items[b]] = [this.items[b], this.items[a]] }
  push (item: [number, number, number, string]): void {
    this.items.push(item)
    for (let i = this.items.length - 1; i > 0;) {
      const p = (i - 1) >> 1
      if (!this.less(i, p)) break
      this.swap(i, p)
      i = p
    }
  }

  pop (): [number, number, number, string] {
    const top = this.items[0]
    const last = this.items.pop() as [number, number, number, string]
    if (this.items.length > 0) {
      this.items[0] = last
      for (let i = 0; ;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < this.items.length && this.less(l, m)) m = l
        if (r < this.items.length && this.less(r, m)) m = r
        if (m === i) break
        this.swap(i, m)
        i = m
      }
    }
    return top
  }
}

/** Build a byte-level BPE tokenizer. @throws {TokenizerError} when the vocabulary lacks a byte token. */
export function bpeTokenizer (v: BpeVocabulary): Tokenizer {
  const vocabSize = v.tokens.length
  const ids = new Map<string, number>()
  v.tokens.forEach((t, id) => { if (!ids.has(t)) ids.set(t, id) })
  const ranks = new Map<string, number>()
  v.merges.forEach((m, rank) => { if (!ranks.has(m)) ranks.set(m, rank) })
  for (const c of BYTE_TO_UNICODE) {
    if (!ids.has(c)) throw new TokenizerError(`not a byte-level BPE vocabulary: it has no token for the byte character "${c}" (U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')})`)
  }
  const { always, special } = specialTokenLists(v.tokens, v.types)
  const cache = new Map<string, number[]>()

  // Steps 3–5 for one pre-tokenized word.
  const encodeWord = (word: string): number[] => {
    const hit = cache.get(word)
    if (hit !== undefined) return hit
    let chars = ''
    for (const b of utf8.encode(word)) chars += BYTE_TO_UNICODE[b]
    let out: number[]
    const whole = v.pre.ignoreMerges ? ids.get(chars) : undefined
    if (whole !== undefined) {
      out = [whole]
    } else {
      const sym = Array.from(chars)
      const next = sym.map((_, i) => i + 1)
      const prev = sym.map((_, i) => i - 1)
      const queue = new MergeQueue()
      const consider = (l: number, r: number): void => {
        if (l < 0 || r >= sym.length) return
        const rank = ranks.get(`${sym[l]} ${sym[r]}`)
        if (rank !== undefined) queue.push([rank, l, r, sym[l] + sym[r]])
      }
      for (let i = 1; i < sym.length; i++) consider(i - 1, i)
      while (queue.size > 0) {
        const [, l, r, text] = queue.pop()
        if (sym[l] === '' || sym[r] === '' || next[l] !== r || sym[l] + sym[r] !== text) continue
        sym[l] = text
        sym[r] = ''
        next[l] = next[r]
        if (next[r] < sym.length) prev[next[r]] = l
        consider(prev[l], l)
        consider(l, next[l])
      }
      out = []
      for (const s of sym) {
        if (s === '') continue
        const id = ids.get(s)
        if (id !== undefined) { out.push(id); continue }
        for (const c of s) out.push(ids.get(c) as number)
      }
    }
    if (cache.size >= WORD_CACHE_ENTRIES) cache.clear()
    cache.set(word, out)
    return out
  }

  const encode = (text: string | Uint8Array, opts?: EncodeOptions): number[] => {
    const s = typeof text === 'string' ? text : utf8Decoder.decode(text)
    const out: number[] = (opts?.bos ?? v.addBos) ? [v.bosId] : []
    for (const f of partitionSpecial(s, opts?.special === true ? special : always)) {
      if (typeof f === 'number') { out.push(f); continue }
      for (const word of preTokenize(v.pre, f)) out.push(...encodeWord(word))
    }
    return out
  }

  const decode = (_prev: number, token: number): Uint8Array => {
    checkToken(vocabSize, token)
    const type = v.types[token]
    const text = v.tokens[token]
    if (type === TOKEN_TYPES.CONTROL || type === TOKEN_TYPES.UNKNOWN || type === TOKEN_TYPES.UNUSED) return new Uint8Array(0)
    if (type === TOKEN_TYPES.USER_DEFINED) return utf8.encode(text)
    const bytes: number[] = []
    for (const c of text) {
      const b = UNICODE_TO_BYTE.get(c)
      if (b !== undefined) bytes.push(b)
      else bytes.push(...utf8.encode(c))
    }
    return Uint8Array.from(bytes)
  }

  return {
    kind: 'gguf-gpt2',
    vocabSize,
    bosId: v.bosId,
    eosId: v.eosId,
    addBos: v.addBos,
    stopIds: v.stopIds,
    ...(v.chatTemplate === undefined ? {} : { chatTemplate: v.chatTemplate }),
    encode,
    decode,
    tokenText: token => { checkToken(vocabSize, token); return v.tokens[token] }
  }
}
