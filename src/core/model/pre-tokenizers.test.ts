import { describe, expect, it } from 'vitest'
import { UnsupportedModelError } from './errors.ts'
import { PRE_TOKENIZERS, preTokenize, preTokenizer } from './pre-tokenizers.ts'

// Expected splits worked out by hand from the expressions in llama.cpp's llama-vocab.cpp.
const split = (pre: string, text: string): string[] => preTokenize(PRE_TOKENIZERS[pre], text)

describe('pre-tokenizers', () => {
  it('smollm: digits stand alone, then GPT-2 words', () => {
    expect(split('smollm', 'Hello world 123')).toEqual(['Hello', ' world', ' ', '1', '2', '3'])
    expect(split('smollm', "I'm  here")).toEqual(['I', "'m", ' ', ' here'])
    expect(split('smollm', 'x=(a+b);\n\n  y')).toEqual(['x', '=(', 'a', '+', 'b', ');', '\n\n ', ' y'])
  })

  it('gpt-2: digit runs stay together, lower-case contractions only', () => {
    expect(split('gpt-2', 'Hello world 123')).toEqual(['Hello', ' world', ' 123'])
    expect(split('gpt-2', "DON'T don't")).toEqual(['DON', "'", 'T', ' don', "'t"])
  })

  it('qwen2: case-insensitive contractions, one digit at a time, newlines kept apart', () => {
    expect(split('qwen2', "DON'T stop 42")).toEqual(['DON', "'T", ' stop', ' ', '4', '2'])
    expect(split('qwen2', 'a.\n\nb')).toEqual(['a', '.\n\n', 'b'])
    expect(split('qwen2', '  \n x')).toEqual(['  \n', ' x'])
  })

  it('llama-bpe: digits in threes', () => {
    expect(split('llama-bpe', '1234567')).toEqual(['123', '456', '7'])
  })

  it('uses Unicode White_Space, not JavaScript\'s \\s (U+0085 is a space, U+FEFF is not)', () => {
    expect(split('gpt-2', 'a\u0085\u0085b')).toEqual(['a', '\u0085', '\u0085', 'b'])
    expect(split('gpt-2', 'a\ufeffb')).toEqual(['a', '\ufeff', 'b'])
  })

  it('keeps every character: the words join back to the text', () => {
    for (const pre of Object.keys(PRE_TOKENIZERS)) {
      for (const text of ['', 'a', 'Ünïcödé 🙂👍🏽 日本語 — 3.14 ', '\t\r\n x  ']) expect(split(pre, text).join('')).toBe(text)
    }
  })

  it('refuses unknown or missing names', () => {
    expect(() => preTokenizer('tekken')).toThrow(UnsupportedModelError)
    expect(() => preTokenizer(undefined)).toThrow(/tokenizer.ggml.pre is missing/)
    expect(() => preTokenizer('constructor')).toThrow(/"constructor" is not one Cerberus knows/)
  })
})
