import { describe, expect, it } from 'vitest'
import { gv, writeGguf } from '../../test/gguf-writer.ts'
import { mergeMetadata, stories260KGguf, storiesTokenizerMetadata, TOKEN_TYPE } from '../../test/stories-gguf.ts'
import golden from './testdata/runc-golden.json' with { type: 'json' }
import { GgufFormatError, TokenizerError, UnsupportedModelError } from './errors.ts'
import { parseGguf, type GgufValue } from './gguf.ts'
import { ggufTokenizer } from './gguf-tokenizer.ts'
import { stories260K } from '../../test/fixtures.ts'
import { BOS, parseTokenizer } from './tokenizer.ts'

const llama2c = parseTokenizer(stories260K().tokenizer, 512)
const spm = ggufTokenizer(parseGguf(stories260KGguf()), 512)

/** Strings that exercise the dummy prefix, merges, spaces, byte fallback and C-string ends. */
const TEXTS = [
  ...golden.encode.map(e => e.text),
  'Once upon a time', ' leading space', 'trailing space ', 'a  b   c', '\n\nnewlines\n', '\ttab', 'Tom said, "Hi!"',
  '123 + 456 = 579', 'Café — naïve 🙂 日本語', '\u0000after a NUL', 'x'.repeat(200), "don't <s> </s> <unk> <0x41>"
]

describe('a SentencePiece-style GGUF vocabulary ("llama") is run.c\'s tokenizer', () => {
  it('says what it is', () => {
    expect(spm).toMatchObject({ kind: 'gguf-llama', vocabSize: 512, bosId: 1, eosId: 2, addBos: true })
    expect([...spm.stopIds].sort()).toEqual([1, 2])
    expect(spm.chatTemplate).toBeUndefined()
    expect([spm.tokenText(1), spm.tokenText(265), spm.tokenText(3 + 0x41)]).toEqual(['<s>', '▁the', '<0x41>'])
  })

  for (const text of TEXTS) {
    it(`encodes ${JSON.stringify(text.slice(0, 40))} as the llama2.c tokenizer does`, () => {
      expect(spm.encode(text)).toEqual(llama2c.encode(text))
      expect(spm.encode(text, { bos: false })).toEqual(llama2c.encode(text).slice(1))
    })
  }

  it('prints every token as run.c does, after any previous token (control tokens print nothing)', () => {
    for (const prev of [BOS, 2, 0, 259, 378, 3 + 0x0a]) {
      for (let t = 0; t < 512; t++) {
        expect(spm.decode(prev, t)).toEqual(t === 1 || t === 2 ? new Uint8Array(0) : llama2c.decode(prev, t))
      }
    }
  })

  it('turns special tokens in text into ids only when asked', () => {
    expect(spm.encode('<s>hi</s>', { bos: false })).toEqual(llama2c.encode('<s>hi</s>').slice(1))
    const ids = spm.encode('<s>hi</s>', { bos: false, special: true })
    expect(ids[0]).toBe(1)
    expect(ids.at(-1)).toBe(2)
    // llama.cpp puts the dummy-prefix space after each special token.
    expect(ids.slice(1, -1)).toEqual(spm.encode('hi', { bos: false }))
  })

  it('never builds a control token out of text by merging', () => {
    // "<s" + ">" would merge into "<s>", but that piece is BOS, a control token.
    const t = tokenizerOf([
      ['tokenizer.ggml.model', gv.str('llama')],
      ['tokenizer.ggml.tokens', gv.strings(['<unk>', '<s>', '</s>', '▁', '<', 's', '>', '<s'])],
      ['tokenizer.ggml.scores', gv.f32s([0, 0, 0, 0, -1, -1, -1, -0.5])],
      ['tokenizer.ggml.token_type', gv.i32s([2, 3, 3, 1, 1, 1, 1, 1])]
    ], 8)
    expect(t.encode('<s>', { bos: false })).toEqual([3, 7, 6])
    expect(t.encode('<s>', { bos: false, special: true })).toEqual([1])
  })

  it('refuses ids outside the vocabulary', () => {
    expect(() => spm.decode(1, 512)).toThrow(TokenizerError)
    expect(() => spm.tokenText(-1)).toThrow(/outside the vocabulary \[0, 512\)/)
  })
})

function tokenizerOf (metadata: ReadonlyArray<readonly [string, GgufValue]>, vocab = 512): ReturnType<typeof ggufTokenizer> {
  return ggufTokenizer(parseGguf(writeGguf({ metadata, tensors: [] })), vocab)
}

describe('ggufTokenizer refuses tokenizers it cannot run', () => {
  const base = storiesTokenizerMetadata()
  const cases: Array<[string, ReadonlyArray<readonly [string, GgufValue]>, number, typeof GgufFormatError | typeof UnsupportedModelError, RegExp]> = [
    ['no tokenizer model', mergeMetadata(base, [], ['tokenizer.ggml.model']), 512, GgufFormatError, /no metadata "tokenizer.ggml.model"/],
    ['a WordPiece (bert) tokenizer', mergeMetadata(base, [['tokenizer.ggml.model', gv.str('bert')]]), 512, UnsupportedModelError, /tokenizer is "bert"; Cerberus reads tokenizer.ggml.model = "llama" or "gpt2"/],
    ['a vocabulary of the wrong size', base, 600, GgufFormatError, /tokenizer.ggml.tokens has 512 tokens, but the model's embedding has 600 rows/],
    ['scores of the wrong length', mergeMetadata(base, [['tokenizer.ggml.scores', gv.f32s([1, 2])]]), 512, GgufFormatError, /scores has 2 entries for 512 tokens/],
    ['token types of the wrong length', mergeMetadata(base, [['tokenizer.ggml.token_type', gv.i32s([1])]]), 512, GgufFormatError, /token_type has 1 entries for 512 tokens/],
    ['a BOS id outside the vocabulary', mergeMetadata(base, [['tokenizer.ggml.bos_token_id', gv.u32(9999)]]), 512, GgufFormatError, /bos_token_id is 9999, outside the vocabulary/],
    ['a BYTE token that is not <0xXX>', mergeMetadata(base, [['tokenizer.ggml.token_type', gv.i32s(Array.from({ length: 512 }, (_, i) => i === 300 ? TOKEN_TYPE.BYTE : i < 3 ? 3 : i < 259 ? 6 : 1))]]), 512, GgufFormatError, /token 300 is a BYTE token but its text is/],
    ['a BPE vocabulary without merges', mergeMetadata(base, [['tokenizer.ggml.model', gv.str('gpt2')]]), 512, GgufFormatError, /no metadata "tokenizer.ggml.merges"/],
    ['an unknown pre-tokenizer', mergeMetadata(base, [['tokenizer.ggml.model', gv.str('gpt2')], ['tokenizer.ggml.merges', gv.strings([])], ['tokenizer.ggml.pre', gv.str('tekken')]]), 512, UnsupportedModelError, /pre-tokenizer "tekken" is not one Cerberus knows; known: smollm/],
    ['a BPE vocabulary that is not byte-level', mergeMetadata(base, [['tokenizer.ggml.model', gv.str('gpt2')], ['tokenizer.ggml.merges', gv.strings([])], ['tokenizer.ggml.pre', gv.str('gpt-2')]]), 512, TokenizerError, /no token for the byte character/]
  ]
  for (const [what, metadata, vocab, type, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(() => tokenizerOf(metadata, vocab)).toThrow(type)
      expect(() => tokenizerOf(metadata, vocab)).toThrow(message)
    })
  }

  it('adds the end-of-turn token to the stop set', () => {
    const t = tokenizerOf(mergeMetadata(base, [['tokenizer.ggml.eot_token_id', gv.u32(7)]]))
    expect([...t.stopIds].sort((a, b) => a - b)).toEqual([1, 2, 7])
  })

  it('reads add_bos_token and the chat template', () => {
    const t = tokenizerOf(mergeMetadata(base, [['tokenizer.ggml.add_bos_token', gv.bool(false)], ['tokenizer.chat_template', gv.str('{{ x }}')]]))
    expect(t.addBos).toBe(false)
    expect(t.encode('Hi')[0]).not.toBe(1)
    expect(t.chatTemplate).toBe('{{ x }}')
  })
})
