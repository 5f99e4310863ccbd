import { describe, expect, it } from 'vitest'
import { stories260KGguf } from '../../test/stories-gguf.ts'
import { ModelFormatError, ModelLoadError } from './errors.ts'
import { detectModelFormat, loadModelBytes } from './load-model.ts'
import { stories260K } from '../../test/fixtures.ts'

const files = stories260K()
const gguf = stories260KGguf()

describe('loadModelBytes', () => {
  it('loads a llama2.c checkpoint with its tokenizer, and the same model as GGUF alone', () => {
    const bin = loadModelBytes(files.model, files.tokenizer)
    const g = loadModelBytes(gguf)
    expect([bin.format, g.format]).toEqual(['llama2c', 'gguf'])
    expect(g.ckpt.config).toEqual(bin.ckpt.config)
    expect(g.tokenizer.encode('Once upon a time')).toEqual(bin.tokenizer.encode('Once upon a time'))
    expect(bin.name).toBeUndefined()
  })

  it('detects the format by the first bytes', () => {
    expect(detectModelFormat(gguf)).toBe('gguf')
    expect(detectModelFormat(files.model)).toBe('llama2c')
    expect(detectModelFormat(files.model.slice(0, 1000))).toBe('llama2c')
    expect(detectModelFormat(files.tokenizer)).toBeUndefined()
    expect(detectModelFormat(new Uint8Array(3))).toBeUndefined()
  })

  const misuse: Array<[string, () => unknown, RegExp]> = [
    ['a .bin without its tokenizer', () => loadModelBytes(files.model), /a llama2.c checkpoint needs its tokenizer file/],
    ['a GGUF file plus a tokenizer file', () => loadModelBytes(gguf, files.tokenizer), /a GGUF model carries its own tokenizer; pass no tokenizer file/],
    ['a GGUF file given as the tokenizer', () => loadModelBytes(files.model, gguf), /the tokenizer file is a GGUF model file/],
    ['an empty file', () => loadModelBytes(new Uint8Array(0)), /it is 0 bytes and starts with nothing/]
  ]
  it('refuses a tokenizer given as the model with the llama2.c parser\'s ModelFormatError, and a hint', () => {
    const run = (): unknown => loadModelBytes(files.tokenizer)
    expect(run).toThrow(ModelFormatError)
    expect(run).toThrow(/^not a llama2.c checkpoint: .*; the model file is neither a GGUF file nor a llama2.c checkpoint \(it is 6227 bytes and starts with .*\); if it is a tokenizer.bin, pass it as the tokenizer/)
  })
  for (const [what, run, message] of misuse) {
    it(`refuses ${what} with a ModelLoadError`, () => {
      expect(run).toThrow(ModelLoadError)
      expect(run).toThrow(message)
    })
  }

  it('passes format errors through (a truncated .bin is a ModelFormatError, not "neither")', () => {
    expect(() => loadModelBytes(files.model.slice(0, 1000), files.tokenizer)).toThrow(ModelFormatError)
    expect(() => loadModelBytes(gguf.slice(0, 5000))).toThrow(/not a valid GGUF file/)
  })
})
