import { describe, expect, it } from 'vitest'
import { expectedCheckpointBytes, parseCheckpoint } from './checkpoint.ts'
import { ModelFormatError } from './errors.ts'
import { stories260K, syntheticCheckpoint } from '../../test/fixtures.ts'

describe('parseCheckpoint', () => {
  const { model } = stories260K()

  it('reads stories260K: header, derived sizes, shared classifier', () => {
    const { config, weights } = parseCheckpoint(model)
    expect(config).toEqual({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, seqLen: 512, sharedClassifier: true, headSize: 8, kvDim: 32 })
    expect(weights.wk.length).toBe(5 * 32 * 64)
    expect(weights.w2.length).toBe(5 * 64 * 172)
    expect(weights.wcls).toBe(weights.tokenEmbedding)
    expect(expectedCheckpointBytes(config)).toBe(model.byteLength)
    // First float after the header is the first embedding weight.
    expect(weights.tokenEmbedding[0]).toBe(new DataView(model.buffer, model.byteOffset).getFloat32(28, true))
  })

  it('reads a separate classifier when vocab_size is negative', () => {
    const bytes = syntheticCheckpoint({ dim: 16, hiddenDim: 24, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 40, seqLen: 32, shared: false })
    const { config, weights } = parseCheckpoint(bytes)
    expect(config.sharedClassifier).toBe(false)
    expect(config.vocabSize).toBe(40)
    expect(weights.wcls).not.toBe(weights.tokenEmbedding)
    expect(weights.wcls.length).toBe(40 * 16)
    // The classifier is the last tensor of the file.
    const last = new DataView(bytes.buffer).getFloat32(bytes.byteLength - 4, true)
    expect(weights.wcls[weights.wcls.length - 1]).toBe(last)
  })

  it('copies an unaligned buffer instead of failing', () => {
    const shifted = new Uint8Array(model.byteLength + 1)
    shifted.set(model, 1)
    const a = parseCheckpoint(model)
    const b = parseCheckpoint(shifted.subarray(1))
    expect(b.weights.w3).toEqual(a.weights.w3)
  })

  const bad: Array<[string, () => Uint8Array, RegExp]> = [
    ['an empty file', () => new Uint8Array(0), /0 bytes, fewer than the 28-byte header/],
    ['a file shorter than the header', () => model.slice(0, 10), /10 bytes, fewer than the 28-byte header/],
    ['a truncated file', () => model.slice(0, model.byteLength - 100), /truncated — 1056440 bytes, .* need exactly 1056540/],
    ['a file with trailing bytes', () => { const b = new Uint8Array(model.byteLength + 8); b.set(model); return b }, /longer than its header says/],
    ['a text file', () => new TextEncoder().encode('root:x:0:0:root:/root:/bin/bash\n'.repeat(10)), /header field dim = \d+ is outside/],
    ['a zero dimension', () => { const b = model.slice(); new DataView(b.buffer).setInt32(0, 0, true); return b }, /dim = 0 is outside/],
    ['heads that do not divide dim', () => { const b = model.slice(); new DataView(b.buffer).setInt32(12, 7, true); return b }, /dim 64 is not a multiple of n_heads 7/],
    ['kv heads that do not divide heads', () => { const b = model.slice(); new DataView(b.buffer).setInt32(16, 3, true); return b }, /n_heads 8 is not a multiple of n_kv_heads 3/],
    ['more kv heads than heads', () => { const b = model.slice(); new DataView(b.buffer).setInt32(16, 16, true); return b }, /n_kv_heads = 16 is outside \[1, 8\]/],
    ['a newer export format', () => { const b = model.slice(); const dv = new DataView(b.buffer); dv.setUint32(0, 0x616b3432, true); dv.setInt32(4, 1, true); return b }, /export format version 1 .*--version 0/],
    ['a NaN weight', () => { const b = model.slice(); new DataView(b.buffer).setFloat32(28 + 4 * 1000, Number.NaN, true); return b }, /tensor tokenEmbedding has a non-finite value \(NaN\) at index 1000/],
    ['an infinite weight deep inside', () => { const b = model.slice(); new DataView(b.buffer).setFloat32(b.byteLength - 4 * 5000, Number.POSITIVE_INFINITY, true); return b }, /non-finite value \(Infinity\)/]
  ]
  for (const [what, make, message] of bad) {
    it(`rejects ${what} with a ModelFormatError`, () => {
      const bytes = make()
      expect(() => parseCheckpoint(bytes)).toThrow(ModelFormatError)
      expect(() => parseCheckpoint(bytes)).toThrow(message)
    })
  }
})
