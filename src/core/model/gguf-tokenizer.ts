/**
 * The tokenizer a GGUF file carries in its `tokenizer.*` metadata, behind the common
 * {@link Tokenizer} interface:
 *
 * - `tokenizer.ggml.model = llama`: a SentencePiece-style vocabulary (pieces with "▁" for
 *   spaces, scores, `<0xXX>` BYTE pieces), encoded and printed exactly as run.c does
 *   (sentencepiece.ts), so stories260K as GGUF tokenizes as its `tokenizer.bin` does;
 *   control pieces never come out of merging and print nothing;
 * - `tokenizer.ggml.model = gpt2`: byte-level BPE with `tokenizer.ggml.merges` and the
 *   pre-tokenizer named by `tokenizer.ggml.pre` (bpe-tokenizer.ts).
 *
 * Special tokens in text (`encode(text, { special: true })`) are cut out first, as
 * llama.cpp does; the chat template is `tokenizer.chat_template`.
 */
import { bpeTokenizer } from './bpe-tokenizer.ts'
import { GgufFormatError, UnsupportedModelError } from './errors.ts'
import type { GgufFile } from './gguf.ts'
import { metaBool, metaNumbers, metaString, metaStrings, metaUint, required } from './gguf-metadata.ts'
import { preTokenizer } from './pre-tokenizers.ts'
import { checkToken, sentencePieceVocab, spDecode, spEncode } from './sentencepiece.ts'
import { partitionSpecial, specialTokenLists, TOKEN_TYPES } from './special-tokens.ts'
import type { EncodeOptions, Tokenizer } from './tokenizer.ts'

/** The tokenizer models Cerberus reads. */
export const GGUF_TOKENIZER_MODELS: readonly string[] = ['llama', 'gpt2']

/**
 * End-of-generation token texts, marked so by llama.cpp when they are control tokens
 * (src/llama-vocab.cpp, the EOT/EOG auto-detection): end of turn in ChatML, Llama 3, Gemma, Phi.
 */
const END_OF_TURN_TEXTS = new Set(['<|im_end|>', '<|eot_id|>', '<|eom_id|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<EOT>'])

const bad = (message: string): GgufFormatError => new GgufFormatError(`not a valid GGUF tokenizer: ${message}`)

function tokenId (file: GgufFile, key: string, vocabSize: number): number | undefined {
  const id = metaUint(file.metadata, key)
  if (id === undefined) return undefined
  if (id >= vocabSize) throw bad(`${key} is ${id}, outside the vocabulary [0, ${vocabSize})`)
  return id
}

/**
 * The tokenizer of a GGUF file whose model has `vocabSize` tokens.
 * @throws {UnsupportedModelError} for a tokenizer model or pre-tokenizer Cerberus does not read.
 * @throws {GgufFormatError} when the vocabulary is missing, has the wrong size, or its
 *   arrays or special ids do not agree.
 */
export function ggufTokenizer (file: GgufFile, vocabSize: number): Tokenizer {
  const m = file.metadata
  const model = required(m, 'tokenizer.ggml.model', metaString)
  if (!GGUF_TOKENIZER_MODELS.includes(model)) {
    throw new UnsupportedModelError(`the model's tokenizer is "${model}"; Cerberus reads tokenizer.ggml.model = ${GGUF_TOKENIZER_MODELS.map(x => `"${x}"`).join(' or ')} (SentencePiece-style and byte-level BPE vocabularies)`)
  }
  const tokens = required(m, 'tokenizer.ggml.tokens', metaStrings)
  if (tokens.length !== vocabSize) throw bad(`tokenizer.ggml.tokens has ${tokens.length} tokens, but the model's embedding has ${vocabSize} rows`)
  const types = metaNumbers(m, 'tokenizer.ggml.token_type') ?? new Int32Array(vocabSize).fill(TOKEN_TYPES.NORMAL)
  if (types.length !== vocabSize) throw bad(`tokenizer.ggml.token_type has ${types.length} entries for ${vocabSize} tokens`)
  const spm = model === 'llama'
  const eosId = tokenId(file, 'tokenizer.ggml.eos_token_id', vocabSize) ?? (spm ? 2 : undefined)
  if (eosId === undefined) throw bad('tokenizer.ggml.eos_token_id is missing')
  const bosId = tokenId(file, 'tokenizer.ggml.bos_token_id', vocabSize) ?? (spm ? 1 : eosId)
  if (bosId >= vocabSize || eosId >= vocabSize) throw bad(`the default BOS/EOS ids (${bosId}, ${eosId}) are outside the vocabulary of ${vocabSize} tokens`)
  const stopIds = new Set([bosId, eosId])
  for (const key of ['tokenizer.ggml.eot_token_id', 'tokenizer.ggml.eom_token_id']) {
    const id = tokenId(file, key, vocabSize)
    if (id !== undefined) stopIds.add(id)
  }
  tokens.forEach((t, id) => { if (types[id] === TOKEN_TYPES.CONTROL && END_OF_TURN_TEXTS.has(t)) stopIds.add(id) })
  const addBos = metaBool(m, 'tokenizer.ggml.add_bos_token') ?? spm
  const chatTemplate = metaString(m, 'tokenizer.chat_template')
  const common = { bosId, eosId, addBos, stopIds, ...(chatTemplate === undefined ? {} : { chatTemplate }) }
  if (!spm) {
    const merges = required(m, 'tokenizer.ggml.merges', metaStrings)
    return bpeTokenizer({ tokens, types, merges, pre: preTokenizer(metaString(m, 'tokenizer.ggml.pre')), ...common })
  }
  const scores = metaNumbers(m, 'tokenizer.ggml.scores') ?? new Float32Array(vocabSize)
  if (scores.length !== vocabSize) throw bad(`tokenizer.ggml.scores has ${scores.length} entries for ${vocabSize} tokens`)
  return spmTokenizer(tokens, types, Float32Array.from(scores), { ...common, dummyPrefix: metaBool(m, 'tokenizer.ggml.add_space_prefix') ?? true })
}

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/

function spmTokenizer (tokens: readonly string[], types: ArrayLike<number>, scores: Float32Array, o: { bosId: number, eosId: number, addBos: boolean, stopIds: ReadonlySet<number>, chatTemplate?: string, dummyPrefix: boolean }): Tokenizer {
  const enc = new TextEncoder()
  const vocabSize = tokens.length
  const byteIds = new Int32Array(256).fill(-1)
  const pieces = tokens.map((t, id) => {
    if (types[id] === TOKEN_TYPES.BYTE) {
      const b = BYTE_PIECE.exec(t)
      if (b === null) throw bad(`token ${id} is a BYTE token but its text is ${JSON.stringify(t)}, not <0xXX>`)
      if (byteIds[parseInt(b[1], 16)] === -1) byteIds[parseInt(b[1], 16)] = id
      return enc.encode(t)
    }
    return enc.encode(t.replaceAll('▁', ' '))
  })
  const isControl = (id: number): boolean => types[id] === TOKEN_TYPES.CONTROL
  const vocab = sentencePieceVocab(pieces, scores, { bosId: o.bosId, byteIds, mergeable: id => !isControl(id) })
  const { always, special } = specialTokenLists(tokens, types)
  const encode = (text: string | Uint8Array, opts?: EncodeOptions): number[] => {
    const s = typeof text === 'string' ? text : new TextDecoder().decode(text)
    const out: number[] = (opts?.bos ?? o.addBos) ? [o.bosId] : []
    const list = opts?.special === true ? special : always
    // Without special tokens in the text this is run.c's encode, byte for byte.
    let afterSpecial = true
    for (const f of list.length === 0 ? [s] : partitionSpecial(s, list)) {
      if (typeof f === 'number') { out.push(f); afterSpecial = true; continue }
      // llama.cpp adds the dummy-prefix space at the start and after each special token.
      out.push(...spEncode(vocab, enc.encode(f), { bos: false, dummyPrefix: o.dummyPrefix && afterSpecial }))
      afterSpecial = false
    }
    return out
  }
  return {
    kind: 'gguf-llama',
    vocabSize,
    bosId: o.bosId,
    eosId: o.eosId,
    addBos: o.addBos,
    stopIds: o.stopIds,
    ...(o.chatTemplate === undefined ? {} : { chatTemplate: o.chatTemplate }),
    encode,
    decode: (prev, token) => {
      checkToken(vocabSize, token)
      return isControl(token) ? new Uint8Array(0) : spDecode(vocab, prev, token)
    },
    tokenText: token => { checkToken(vocabSize, token); return tokens[token] }
  }
}
