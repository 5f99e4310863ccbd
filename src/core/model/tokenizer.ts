/**
 * The tokenizer every engine and caller uses ({@link Tokenizer}), and its first
 * implementation: llama2.c's `tokenizer.bin`, encoding and decoding exactly as
 * karpathy/llama2.c run.c does, byte for byte. GGUF models bring their own tokenizers
 * (gguf-tokenizer.ts: SentencePiece-style "llama" and byte-level BPE "gpt2" vocabularies)
 * behind the same interface.
 *
 * llama2.c file format: int32 max_token_length, then per token: float32 score, int32 byte
 * length, the bytes. The file does not store the vocabulary size; the model does ("i
 * should have written the vocab_size into the tokenizer file... sigh", run.c), so a
 * tokenizer is always parsed for a given vocabulary size and must end exactly after that
 * many tokens. Pieces behave as C strings in run.c (everything stops at a NUL byte), so they
 * are stored as bytes truncated at the first NUL.
 */
import { TokenizerFormatError } from './errors.ts'
import { checkToken, sentencePieceVocab, spDecode, spEncode, type SentencePieceVocab } from './sentencepiece.ts'

/** Token ids fixed by the llama2.c / sentencepiece vocabulary layout. */
export const UNK = 0
/** Beginning of sequence; run.c also stops generating when it samples BOS. */
export const BOS = 1
/** End of sequence. */
export const EOS = 2
/** Byte-fallback pieces `<0x00>`..`<0xFF>` start at this id. */
const BYTE_TOKEN_OFFSET = 3
/** The longest piece we accept: sentencepiece pieces are short; this rejects garbage. */
const MAX_PIECE_BYTES = 1 << 16

/** Where a tokenizer comes from. */
export type TokenizerKind = 'llama2c' | 'gguf-llama' | 'gguf-gpt2'

/** Options of {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /** Start with BOS. Default: the tokenizer's {@link Tokenizer.addBos}. */
  readonly bos?: boolean
  /**
   * Turn special tokens written in the text (e.g. "<|im_start|>", "</s>") into their ids,
   * as a rendered chat template needs. Default false: user text never becomes control
   * tokens. llama2.c tokenizers have no special tokens (run.c) and ignore it.
   */
  readonly special?: boolean
}

/**
 * A tokenizer: text → token ids, and token → the bytes to print. Every engine, the
 * generation loop and the chat template go through this interface only.
 */
export interface Tokenizer {
  readonly kind: TokenizerKind
  readonly vocabSize: number
  readonly bosId: number
  readonly eosId: number
  /** Whether {@link encode} starts with BOS when not told. */
  readonly addBos: boolean
  /**
   * Tokens that end a generation when sampled: BOS (run.c's rule: the model starts a new
   * document), EOS, and for GGUF models their end-of-turn tokens.
   */
  readonly stopIds: ReadonlySet<number>
  /** The model's Jinja chat template (GGUF `tokenizer.chat_template`), when it ships one. */
  readonly chatTemplate?: string
  /** Encode UTF-8 text (a string, or raw bytes). */
  encode: (text: string | Uint8Array, opts?: EncodeOptions) => number[]
  /**
   * The bytes to print for `token` following `prevToken` (possibly empty, possibly part of
   * a UTF-8 character: stream them through a TextDecoder).
   */
  decode: (prevToken: number, token: number) => Uint8Array
  /** The token's text in the vocabulary, as a chat template names it (e.g. "<s>"). */
  tokenText: (token: number) => string
}

/** The llama2.c tokenizer: a {@link Tokenizer} plus run.c's vocabulary tables. */
export interface Llama2cTokenizer extends Tokenizer, SentencePieceVocab {
  readonly kind: 'llama2c'
  readonly maxTokenLength: number
}

const utf8 = new TextEncoder()
const lenientUtf8 = new TextDecoder()

/**
 * Parse a llama2.c tokenizer for a model with `vocabSize` tokens.
 * @throws {TokenizerFormatError} when the file is truncated, has trailing bytes (a sign it
 *   belongs to a model with a larger vocabulary), or has an impossible piece length.
 */
export function parseTokenizer (bytes: Uint8Array, vocabSize: number): Llama2cTokenizer {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.byteLength < 4) throw new TokenizerFormatError(`not a llama2.c tokenizer: ${bytes.byteLength} bytes, fewer than the 4-byte header`)
  const maxTokenLength = dv.getInt32(0, true)
  if (maxTokenLength < 1 || maxTokenLength > MAX_PIECE_BYTES) throw new TokenizerFormatError(`not a llama2.c tokenizer: max_token_length ${maxTokenLength} is outside [1, ${MAX_PIECE_BYTES}]`)
  const pieces: Uint8Array[] = []
  const scores = new Float32Array(vocabSize)
  let off = 4
  for (let i = 0; i < vocabSize; i++) {
    if (off + 8 > bytes.byteLength) {
      throw new TokenizerFormatError(`tokenizer does not match the model: it ends after ${i} tokens, but the model's vocabulary has ${vocabSize}`)
    }
    scores[i] = dv.getFloat32(off, true)
    const len = dv.getInt32(off + 4, true)
    off += 8
    if (len < 0 || len > MAX_PIECE_BYTES) throw new TokenizerFormatError(`not a llama2.c tokenizer: token ${i} has byte length ${len}`)
    if (off + len > bytes.byteLength) throw new TokenizerFormatError(`tokenizer is truncated: token ${i} needs ${len} bytes at offset ${off}, but the file has ${bytes.byteLength}`)
    const raw = bytes.subarray(off, off + len)
    const nul = raw.indexOf(0)
    pieces.push(raw.slice(0, nul === -1 ? len : nul))
    off += len
  }
  if (off !== bytes.byteLength) {
    throw new TokenizerFormatError(`tokenizer does not match the model: ${bytes.byteLength - off} bytes remain after the model's ${vocabSize} tokens (the tokenizer has a larger vocabulary)`)
  }
  // run.c pushes byte + 3 for a byte it cannot find, whatever piece sits there.
  const byteIds = Int32Array.from({ length: 256 }, (_, b) => b + BYTE_TOKEN_OFFSET < vocabSize ? b + BYTE_TOKEN_OFFSET : -1)
  const vocab = sentencePieceVocab(pieces, scores, { bosId: BOS, byteIds })
  return {
    ...vocab,
    kind: 'llama2c',
    maxTokenLength,
    bosId: BOS,
    eosId: EOS,
    addBos: true,
    stopIds: new Set([BOS]),
    encode: (text, opts) => spEncode(vocab, typeof text === 'string' ? utf8.encode(text) : text, { bos: opts?.bos ?? true, dummyPrefix: true }),
    decode: (prev, token) => spDecode(vocab, prev, token),
    tokenText: token => { checkToken(vocabSize, token); return lenientUtf8.decode(vocab.pieces[token]) }
  }
}

/**
 * Encode a prompt as run.c's `encode(t, text, bos=1, eos=0)` does for a llama2.c
 * tokenizer, and as the tokenizer's own rules do for the others (`tokenizer.encode`).
 *
 * @param text a JS string (encoded as UTF-8) or raw bytes.
 * @throws {TokenizerError} when the vocabulary cannot encode the text.
 */
export function encode (t: Tokenizer, text: string | Uint8Array): number[] {
  return t.encode(text)
}

/**
 * The bytes printed for `token` following `prevToken` (`tokenizer.decode`); for a
 * llama2.c tokenizer exactly what run.c prints.
 * @throws {TokenizerError} when a token id is outside the vocabulary.
 */
export function decodePiece (t: Tokenizer, prevToken: number, token: number): Uint8Array {
  return t.decode(prevToken, token)
}
