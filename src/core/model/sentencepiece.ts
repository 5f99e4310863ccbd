/**
 * run.c's SentencePiece-style encoder and printer (`encode`, `decode` + `safe_printf`,
 * karpathy/llama2.c run.c), over any vocabulary of pieces and scores: the llama2.c
 * tokenizer file and a GGUF "llama" vocabulary share it, so the same text gives the same
 * tokens and the same printed bytes from either.
 *
 * Pieces behave as C strings (stop at a NUL byte) and are compared as bytes.
 */
import { TokenizerError } from './errors.ts'

/** A vocabulary prepared for run.c's algorithm. Build with {@link sentencePieceVocab}. */
export interface SentencePieceVocab {
  readonly vocabSize: number
  /** Piece bytes per id (truncated at the first NUL). */
  readonly pieces: readonly Uint8Array[]
  /** Merge scores per id (float32). */
  readonly scores: Float32Array
  /** Pieces as byte strings (one char per byte), by id. */
  readonly keys: readonly string[]
  /** Mergeable pieces as byte strings, sorted by strcmp (stable). */
  readonly sortedKeys: readonly string[]
  /** Ids in sortedKeys order. */
  readonly sortedIds: Int32Array
  /** Token of each byte value for byte fallback, −1 where there is none. */
  readonly byteIds: Int32Array
  /** The BOS id (its following piece prints without a leading space). */
  readonly bosId: number
}

/** Bytes as a byte string (one UTF-16 unit per byte, so `<` compares as strcmp does). */
export function bytesToKey (b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i])
  return s
}

/**
 * Prepare a vocabulary. `mergeable(id)` false keeps a piece out of the lookup (GGUF
 * control tokens, which text must never turn into); run.c's own vocabulary keeps all.
 */
export function sentencePieceVocab (pieces: readonly Uint8Array[], scores: Float32Array, opts: { bosId: number, byteIds: Int32Array, mergeable?: (id: number) => boolean }): SentencePieceVocab {
  const keys = pieces.map(bytesToKey)
  const ids = keys.map((_, i) => i).filter(i => opts.mergeable?.(i) ?? true)
  // run.c sorts with qsort + strcmp; glibc's qsort is a stable merge sort, and JS string
  // comparison of one-byte-per-char strings is unsigned bytewise, as strcmp is.
  ids.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0))
  return { vocabSize: pieces.length, pieces, scores, keys, sortedKeys: ids.map(i => keys[i]), sortedIds: Int32Array.from(ids), byteIds: opts.byteIds, bosId: opts.bosId }
}

/** Find a piece's id, as run.c's `str_lookup` (glibc `bsearch`) does; −1 if absent. */
function lookup (v: SentencePieceVocab, key: string): number {
  let lo = 0
  let hi = v.sortedKeys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const k = v.sortedKeys[mid]
    if (key < k) hi = mid
    else if (key > k) lo = mid + 1
    else return v.sortedIds[mid]
  }
  return -1
}

/**
 * Encode bytes as run.c's `encode(t, text, bos, eos=0)`: optional BOS, a dummy-prefix
 * space when the text is not empty (and `dummyPrefix`), one piece per UTF-8 code point (or
 * its byte-fallback pieces when the code point is not a piece), then repeated merging of
 * the adjacent pair whose merged piece has the highest score (first such pair on ties).
 * The text ends at a NUL byte, as a C string does.
 *
 * @throws {TokenizerError} when the vocabulary lacks the space piece or a byte piece the
 *   text needs.
 */
export function spEncode (v: SentencePieceVocab, text: Uint8Array, opts: { bos: boolean, dummyPrefix: boolean }): number[] {
  let bytes = text
  const nul = bytes.indexOf(0)
  if (nul !== -1) bytes = bytes.subarray(0, nul)
  const tokens: number[] = opts.bos ? [v.bosId] : []
  if (bytes.length > 0 && opts.dummyPrefix) {
    const space = lookup(v, ' ')
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
    const id = lookup(v, buf)
    if (id !== -1) {
      tokens.push(id)
    } else {
      for (let j = 0; j < buf.length; j++) {
        const byteId = v.byteIds[buf.charCodeAt(j)]
        if (byteId === -1) throw new TokenizerError(`cannot encode byte 0x${buf.charCodeAt(j).toString(16)}: the vocabulary (${v.vocabSize} tokens) has no byte-fallback pieces`)
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
      const id = lookup(v, v.keys[tokens[i]] + v.keys[tokens[i + 1]])
      if (id !== -1 && v.scores[id] > bestScore) {
        bestScore = v.scores[id]
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
export function spDecode (v: SentencePieceVocab, prevToken: number, token: number): Uint8Array {
  checkToken(v.vocabSize, token)
  let piece = v.pieces[token]
  if (prevToken === v.bosId && piece[0] === 0x20) piece = piece.subarray(1)
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

/** @throws {TokenizerError} when `token` is not an id of a `vocabSize` vocabulary. */
export function checkToken (vocabSize: number, token: number): void {
  if (!Number.isInteger(token) || token < 0 || token >= vocabSize) throw new TokenizerError(`token id ${token} is outside the vocabulary [0, ${vocabSize})`)
}
