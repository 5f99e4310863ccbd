import { describe, expect, it } from 'vitest'
import golden from './testdata/runc-golden.json' with { type: 'json' }
import { TokenizerError, TokenizerFormatError } from './errors.ts'
import { stories260K, syntheticTokenizer } from '../../test/fixtures.ts'
import { BOS, decodePiece, encode, parseTokenizer } from './tokenizer.ts'

const text = (bytes: Uint8Array[]): string => new TextDecoder().decode(Buffer.concat(bytes))

describe('tokenizer (stories260K tok512.bin)', () => {
  const tok = parseTokenizer(stories260K().tokenizer, 512)

  it('encodes "Once upon a time" as 1 403 407 261 378', () => {
    expect(encode(tok, 'Once upon a time')).toEqual([1, 403, 407, 261, 378])
  })

  it('encodes the empty prompt as BOS alone (no dummy prefix)', () => {
    expect(encode(tok, '')).toEqual([BOS])
  })

  for (const { text: t, tokens } of golden.encode) {
    it(`encodes ${JSON.stringify(t)} exactly as run.c`, () => {
      expect(encode(tok, t)).toEqual(tokens)
    })
  }

  it('falls back to bytes + 3 for code points outside the vocabulary', () => {
    // "日" is E6 97 A5 in UTF-8 and not a piece of this 512-token vocabulary.
    const ids = encode(tok, '日')
    expect(ids.slice(-3)).toEqual([0xe6 + 3, 0x97 + 3, 0xa5 + 3])
  })

  it('stops at a NUL byte, as a C string does', () => {
    expect(encode(tok, new Uint8Array([0x48, 0x69, 0, 0x21]))).toEqual(encode(tok, 'Hi'))
  })

  it('round-trips ASCII text through encode and decode', () => {
    for (const s of ['Once upon a time', 'The cat sat on the mat.', 'a  b   c', 'Tom said, "Hi!"\nThe end.', '123 + 456 = 579']) {
      const ids = encode(tok, s)
      const out = ids.slice(1).map((id, i) => decodePiece(tok, ids[i], id))
      expect(text(out)).toBe(s)
    }
  })

  it('round-trips non-ASCII text through byte pieces', () => {
    const s = 'Café — naïve 🙂'
    const ids = encode(tok, s)
    // decodePiece drops single non-printable bytes, as run.c's safe_printf does, so
    // rebuild from the raw byte pieces instead.
    const raw = ids.slice(1).map(id => /^<0x([0-9A-F]{2})>$/.exec(new TextDecoder().decode(tok.pieces[id])))
    expect(raw.some(m => m !== null)).toBe(true)
    const bytes = ids.slice(1).map((id, i) => {
      const m = raw[i]
      return m !== null ? Uint8Array.of(parseInt(m[1], 16)) : (i === 0 ? tok.pieces[id].subarray(1) : tok.pieces[id])
    })
    expect(text(bytes)).toBe(s)
  })

  it('decodes as run.c prints: no leading space after BOS, raw bytes, unprintable bytes dropped', () => {
    expect(new TextDecoder().decode(decodePiece(tok, BOS, 403))).toBe('Once')
    expect(new TextDecoder().decode(decodePiece(tok, 378, 403))).toBe(' Once')
    expect(decodePiece(tok, 378, 0x0a + 3)).toEqual(Uint8Array.of(0x0a)) // <0x0A> → newline
    expect(decodePiece(tok, 378, 0x41 + 3)).toEqual(Uint8Array.of(0x41)) // <0x41> → "A"
    expect(decodePiece(tok, 378, 0x07 + 3)).toEqual(new Uint8Array(0)) // BEL: not printed
    expect(decodePiece(tok, 378, 0xe6 + 3)).toEqual(new Uint8Array(0)) // lone UTF-8 lead byte: not printed
    expect(decodePiece(tok, 378, 0x00 + 3)).toEqual(new Uint8Array(0)) // NUL: not printed
  })

  it('rejects token ids outside the vocabulary', () => {
    expect(() => decodePiece(tok, 1, 512)).toThrow(TokenizerError)
    expect(() => decodePiece(tok, 1, -1)).toThrow(/outside the vocabulary \[0, 512\)/)
  })
})

describe('parseTokenizer rejects bad files', () => {
  const { tokenizer } = stories260K()
  const cases: Array<[string, () => Uint8Array, number, RegExp]> = [
    ['an empty file', () => new Uint8Array(0), 512, /0 bytes, fewer than the 4-byte header/],
    ['a tokenizer for a smaller vocabulary', () => tokenizer, 600, /ends after 512 tokens, but the model's vocabulary has 600/],
    ['a tokenizer for a larger vocabulary', () => tokenizer, 500, /bytes remain after the model's 500 tokens/],
    ['a truncated file', () => tokenizer.slice(0, tokenizer.length - 3), 512, /truncated: token 511/],
    ['a garbage max_token_length', () => new TextEncoder().encode('\xff\xff\xff\xffhello'), 512, /max_token_length -?\d+ is outside/],
    ['a negative piece length', () => { const b = tokenizer.slice(); new DataView(b.buffer).setInt32(8, -5, true); return b }, 512, /token 0 has byte length -5/]
  ]
  for (const [what, make, vocab, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => parseTokenizer(make(), vocab)).toThrow(TokenizerFormatError)
      expect(() => parseTokenizer(make(), vocab)).toThrow(message)
    })
  }
})

describe('encode on unusual vocabularies', () => {
  it('takes the highest-scoring merge, the first one on ties', () => {
    const tok = parseTokenizer(syntheticTokenizer([['<unk>', 0], ['<s>', 0], ['</s>', 0], [' ', 0], ['a', 0], ['b', 0], ['ab', 1], ['ba', 1], [' a', -1], ['aba', 2]]), 10)
    // " abab": " ", a, b, a, b → best single merge is "ab"/"ba" (score 1; first wins) ...
    expect(encode(tok, 'abab').map(id => tok.keys[id])).toEqual(['<s>', ' ', 'aba', 'b'])
  })

  it('throws a TokenizerError when a byte has no fallback piece', () => {
    const tok = parseTokenizer(syntheticTokenizer([['<unk>', 0], ['<s>', 0], ['</s>', 0], [' ', 0], ['a', 0]]), 5)
    expect(() => encode(tok, 'b')).toThrow(/cannot encode byte 0x62/)
  })

  it('throws a TokenizerError when the vocabulary has no space piece', () => {
    const tok = parseTokenizer(syntheticTokenizer([['<unk>', 0], ['<s>', 0], ['</s>', 0], ['a', 0]]), 4)
    expect(() => encode(tok, 'a')).toThrow(/no " " piece/)
  })

  it('treats pieces as C strings (bytes after a NUL are ignored)', () => {
    const tok = parseTokenizer(syntheticTokenizer([['<unk>', 0], ['<s>', 0], ['</s>', 0], [' ', 0], [new Uint8Array([0x61, 0, 0x7a]), 0]]), 5)
    expect(tok.pieces[4]).toEqual(Uint8Array.of(0x61))
    expect(encode(tok, 'a')).toEqual([1, 3, 4])
  })
})
