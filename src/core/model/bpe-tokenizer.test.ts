import { describe, expect, it } from 'vitest'
import { smollm2VocabGguf } from '../../test/smollm2-fixture.ts'
import { BYTE_TO_UNICODE, bpeTokenizer } from './bpe-tokenizer.ts'
import { parseGguf } from './gguf.ts'
import { ggufTokenizer } from './gguf-tokenizer.ts'
import { PRE_TOKENIZERS } from './pre-tokenizers.ts'
import { TOKEN_TYPES } from './special-tokens.ts'

// A hand-made vocabulary: <|end|> (control), <user> (user-defined), the 256 byte characters, then merges.
const MERGED = ['he', 'll', 'hell', 'hello', 'Ġw']
const tokens = ['<|end|>', '<user>', ...BYTE_TO_UNICODE, ...MERGED]
const types = tokens.map((_, i) => i === 0 ? TOKEN_TYPES.CONTROL : i === 1 ? TOKEN_TYPES.USER_DEFINED : TOKEN_TYPES.NORMAL)
const tiny = bpeTokenizer({ tokens, types, merges: ['h e', 'l l', 'he ll', 'hell o', 'Ġ w'], pre: PRE_TOKENIZERS['gpt-2'], bosId: 0, eosId: 0, addBos: false, stopIds: new Set([0]) })
const id = (t: string): number => tokens.indexOf(t)
const byte = (c: string): number => id(BYTE_TO_UNICODE[c.charCodeAt(0)])

describe('byte-level BPE', () => {
  it('merges by rank, lowest first', () => {
    expect(tiny.encode('hello world')).toEqual([id('hello'), id('Ġw'), byte('o'), byte('r'), byte('l'), byte('d')])
  })

  it('takes the leftmost pair when a rank appears twice', () => {
    expect(tiny.encode('lll')).toEqual([id('ll'), byte('l')])
  })

  it('maps every byte through GPT-2\'s table (space → Ġ, newline → Ċ, UTF-8 bytes one by one)', () => {
    expect(BYTE_TO_UNICODE[0x20]).toBe('Ġ')
    expect(BYTE_TO_UNICODE[0x0a]).toBe('Ċ')
    expect(new Set(BYTE_TO_UNICODE).size).toBe(256)
    expect(tiny.encode('é')).toEqual([id(BYTE_TO_UNICODE[0xc3]), id(BYTE_TO_UNICODE[0xa9])])
  })

  it('cuts out user-defined tokens always and control tokens only when asked', () => {
    expect(tiny.encode('a<user>b')).toEqual([byte('a'), 1, byte('b')])
    expect(tiny.encode('a<|end|>')).toEqual(tiny.encode('a<|end|>', { special: false }))
    expect(tiny.encode('a<|end|>', { special: true })).toEqual([byte('a'), 0])
  })

  it('decodes to the original bytes; control tokens print nothing, user-defined ones their text', () => {
    const ids = tiny.encode('hello wörld 🙂\n')
    const bytes = Buffer.concat(ids.map(t => tiny.decode(-1, t)))
    expect(bytes.toString()).toBe('hello wörld 🙂\n')
    expect(tiny.decode(-1, 0)).toEqual(new Uint8Array(0))
    expect(Buffer.from(tiny.decode(-1, 1)).toString()).toBe('<user>')
  })

  it('starts with BOS only when told (or when the vocabulary says so)', () => {
    expect(tiny.encode('hi', { bos: true })[0]).toBe(0)
    expect(tiny.encode('')).toEqual([])
  })
})

describe('the SmolLM2-shaped fixture vocabulary', () => {
  const tok = ggufTokenizer(parseGguf(smollm2VocabGguf()), 49152)

  it('has SmolLM2\'s layout and special tokens', () => {
    expect(tok).toMatchObject({ kind: 'gguf-gpt2', vocabSize: 49152, bosId: 1, eosId: 2, addBos: false })
    expect([tok.tokenText(0), tok.tokenText(1), tok.tokenText(2)]).toEqual(['<|endoftext|>', '<|im_start|>', '<|im_end|>'])
    // BOS, EOS (<|im_end|>) and <|endoftext|>, a control token llama.cpp treats as end of generation.
    expect([...tok.stopIds].sort((a, b) => a - b)).toEqual([0, 1, 2])
  })

  it('merges text into far fewer tokens than bytes, and decodes it back exactly', () => {
    const text = 'The compiler reports an error when a type is not assignable.\nLe compilateur signale une erreur.\n型が割り当てられません。 🙂'
    const ids = tok.encode(text)
    expect(ids.length).toBeLessThan(Buffer.byteLength(text) / 2.5)
    expect(Buffer.concat(ids.map(t => tok.decode(-1, t))).toString()).toBe(text)
  })
})
