/**
 * The byte-pair-encoding tokenizer of llama2.c (`tokenizer.bin`), encoding and decoding
 * exactly as karpathy/llama2.c run.c does, byte for byte.
 *
 * File format: int32 max_token_length, then per token: float32 score, int32 byte length,
 * the bytes. The file does not store the vocabulary size; the model does ("i should have
 * written the vocab_size into the tokenizer file... sigh", run.c), so a tokenizer is
 * always parsed for a given vocabulary size and must end exactly after that many tokens.
 *
 * Pieces behave as C strings in run.c (everything stops at a NUL byte), so they are stored
 * as bytes truncated at the first NUL.
 */
import { TokenizerError, TokenizerFormatError } from './errors.ts'

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

/** A parsed tokenizer. Create with {@link parseTokenizer}. */
export interface Tokenizer {
  readonly vocabSize: number
  readonly maxTokenLength: number
  /** Piece bytes per id (C-string semantics: truncated at the first NUL). */
  readonly pieces: readonly Uint8Array[]
  /** Merge scores per id (float32). */
  readonly scores: Float32Array
  /** Internal: pieces as byte strings (one char per byte), sorted by strcmp, stable. */
  readonly sortedKeys: readonly string[]
  /** Internal: ids in sortedKeys order. */
  readonly sortedIds: Int32Array
  /** Internal: pieces as byte strings, by id. */
  readonly keys: readonly string[]
}

function bytesToKey (b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i])
  return s
}

/**
 * Parse a llama2.c tokenizer for a model with `vocabSize` tokens.
 * @throws {TokenizerFormatError} when the file is truncated, has trailing bytes (a sign it
 *   belongs to a model with a larger vocabulary), or has an impossible piece length.
 */
export function parseTokenizer (bytes: Uint8Array, vocabSize: number): Tokenizer {
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
  const keys = pieces.map(bytesToKey)
  // run.c sorts with qsort + strcmp; glibc's qsort is a stable merge sort, and JS string
  // comparison of one-byte-per-char strings is unsigned bytewise, as strcmp is.
  const order = keys.map((_, i) => i).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0))
  return {
    vocabSize,
    maxTokenLength,
    pieces,
    scores,
    keys,
    sortedKeys: order.map(i => keys[i]),
    sortedIds: Int32Array.from(order)
  }
}

/** Find a piece's id, as run.c's `str_lookup` (glibc `bsearch`) does; -1 if absent. */
function lookup (t: Tokenizer, key: string): number {
  let lo = 0
  let hi = t.sortedKeys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const k = t.sortedKeys[mid]
    if (key < k) hi = mid
    else if (key > k) lo = mid + 1
    else return t.sortedIds[mid]
  }
  return -1
}

/**
 * Encode text as run.c's `encode(t, text, bos=1, eos=0)`: BOS, a dummy-prefix space when
 * the text is not empty, one piece per UTF-8 code point (or its bytes + 3 when the code
 * point is not a piece), then repeated merging of the adjacent pair whose merged piece
 * has the highest score (first such pair on ties) until no pair merges.
 *
 * @param text a JS string (encoded as UTF-8) or raw bytes; the text ends at a NUL byte,
 *   as a C string does.
 * @throws {TokenizerError} when the vocabulary lacks the space piece or byte pieces that
 *   the text needs.
 */
export function encode (t: Tokenizer, text: string | Uint8Array): number[] {
  let bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text
  const nul = bytes.indexOf(0)
  if (nul !== -1) bytes = bytes.subarray(0, nul)
  const tokens: number[] = [BOS]
  if (bytes.length > 0) {
    const space = lookup(t, ' ')
    if (space === -1) throw new TokenizerError('cannot encode: the vocabulary has no " " piece for the dummy prefix')
    tokens.push(space)
  }
  let buf = ''
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]
    if ((c & 0xc0) !== 0x80) buf = ''
    buf += String.fromCharCode(c)
    const next = i + 1 < bytes.length ? bytes[i + 1] : 0
    if ((next & 0xc0) === 0x80 && buf.length < 4) continue
    const id = lookup(t, buf)
    if (id !== -1) {
      tokens.push(id)
    } else {
      for (let j = 0; j < buf.length; j++) {
        const byteId = buf.charCodeAt(j) + BYTE_TOKEN_OFFSET
        if (byteId >= t.vocabSize) throw new TokenizerError(`cannot encode byte 0x${buf.charCodeAt(j).toString(16)}: the vocabulary (${t.vocabSize} tokens) has no byte-fallback pieces`)
        tokens.push(byteId)
      }
    }
    buf = ''
  }
  const NO_SCORE = Math.fround(-1e10)
  for (;;) {
    let bestScore = NO_SCORE
    let bestId = -1
    let bestIdx = -1
    for (let i = 0; i < tokens.length - 1; i++) {
      const id = lookup(t, t.keys[tokens[i]] + t.keys[tokens[i + 1]])
      if (id !== -1 && t.scores[id] > bestScore) {
        bestScore = t.scores[id]
        bestId = id
        bestIdx = i
      }
    }
    if (bestIdx === -1) break
    tokens.splice(bestIdx, 2, bestId)
  }
  return tokens
}

const HEX = /^[0-9A-Fa-f]$/

/**
 * The bytes run.c prints for `token` following `prevToken` (`decode` + `safe_printf`):
 * the piece, without its leading space right after BOS; `<0xXX>` pieces become the raw
 * byte; a single byte that is neither printable ASCII nor whitespace prints nothing.
 * @throws {TokenizerError} when a token id is outside the vocabulary.
 */
export function decodePiece (t: Tokenizer, prevToken: number, token: number): Uint8Array {
  if (!Number.isInteger(token) || token < 0 || token >= t.vocabSize) throw new TokenizerError(`token id ${token} is outside the vocabulary [0, ${t.vocabSize})`)
  let piece = t.pieces[token]
  if (prevToken === BOS && piece[0] === 0x20) piece = piece.subarray(1)
  // run.c: sscanf(piece, "<0x%02hhX>", &byte) — "<0x" then one or two hex digits.
  if (piece.length >= 4 && piece[0] === 0x3c && piece[1] === 0x30 && piece[2] === 0x78 && HEX.test(String.fromCharCode(piece[3]))) {
    const two = piece.length > 4 && HEX.test(String.fromCharCode(piece[4]))
    const byte = parseInt(String.fromCharCode(piece[3]) + (two ? String.fromCharCode(piece[4]) : ''), 16)
    piece = byte === 0 ? new Uint8Array(0) : Uint8Array.of(byte)
  }
  if (piece.length === 0) return piece
  if (piece.length === 1) {
    const b = piece[0]
    const printable = b >= 0x20 && b <= 0x7e
    const space = b === 0x20 || (b >= 0x09 && b <= 0x0d)
    if (!printable && !space) return new Uint8Array(0)
  }
  return piece
}
