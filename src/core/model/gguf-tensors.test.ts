import { describe, expect, it } from 'vitest'
import { encodeTensor, f32ToF16, writeGguf, type WritableType } from '../../test/gguf-writer.ts'
import { prng } from '../prng.ts'
import { GgufFormatError, UnsupportedModelError } from './errors.ts'
import { parseGguf } from './gguf.ts'
import { f16ToF32, readTensorF32 } from './gguf-tensors.ts'

function roundTrip (type: WritableType, data: Float32Array, dims = [data.length]): Float32Array {
  const f = parseGguf(writeGguf({ metadata: [], tensors: [{ name: 't', dims, type, data }] }))
  return readTensorF32(f, f.tensors[0])
}

function raw (typeId: number, bytes: Uint8Array, elements: number): Float32Array {
  const f = parseGguf(writeGguf({ metadata: [], tensors: [{ name: 't', dims: [elements], typeId, raw: bytes }] }))
  return readTensorF32(f, f.tensors[0])
}

const rand = prng(7)
const gaussian = (n: number, scale: number): Float32Array => Float32Array.from({ length: n }, () => scale * (rand() + rand() + rand() - 1.5))

describe('half precision', () => {
  it('f16 → f32 → f16 is the identity on every non-NaN bit pattern', () => {
    for (let h = 0; h < 65536; h++) {
      const x = f16ToF32(h)
      if (Number.isNaN(x)) { expect((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0).toBe(true); continue }
      expect(f32ToF16(x)).toBe(h)
    }
  })

  it('decodes known values (normal, subnormal, infinite)', () => {
    expect([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00, 0x8000].map(f16ToF32)).toEqual([1, -2, 65504, 2 ** -24, 2 ** -14, Infinity, -Infinity, -0])
  })

  it('the writer rounds to nearest, ties to even', () => {
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00)
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02)
    expect(f32ToF16(2 ** -25)).toBe(0)
    expect(f32ToF16(3 * 2 ** -25)).toBe(2)
    expect(f32ToF16(65520)).toBe(0x7c00)
  })
})

describe('readTensorF32', () => {
  it('reads F32 exactly', () => {
    const x = gaussian(96, 3)
    expect(roundTrip('F32', x)).toEqual(x)
  })

  it('reads F16 and BF16 exactly (every stored value is a float32)', () => {
    const x = gaussian(96, 3)
    const f16 = roundTrip('F16', x)
    expect(f16).toEqual(Float32Array.from(x, v => f16ToF32(f32ToF16(v))))
    const bf16 = roundTrip('BF16', x)
    for (let i = 0; i < x.length; i++) {
      expect(new Uint32Array(Float32Array.of(bf16[i]).buffer)[0] & 0xffff).toBe(0)
      expect(Math.abs(bf16[i] - x[i])).toBeLessThanOrEqual(Math.abs(x[i]) * 2 ** -8)
    }
  })

  it('reads Q8_0 exactly: value = d · q, d an f16 and q an int8', () => {
    const block = new Uint8Array(34)
    new DataView(block.buffer).setUint16(0, 0x3800, true) // d = 0.5
    for (let j = 0; j < 32; j++) block[2 + j] = (j * 8 - 128) & 0xff
    expect(raw(8, block, 32)).toEqual(Float32Array.from({ length: 32 }, (_, j) => 0.5 * (j * 8 - 128)))
  })

  it('dequantizes Q4_0 as ggml does: (nibble − 8) · d, low nibbles first', () => {
    const block = new Uint8Array(18)
    new DataView(block.buffer).setUint16(0, 0x4000, true) // d = 2
    for (let j = 0; j < 16; j++) block[2 + j] = j | ((15 - j) << 4)
    const want = [...Array.from({ length: 16 }, (_, j) => (j - 8) * 2), ...Array.from({ length: 16 }, (_, j) => (15 - j - 8) * 2)]
    expect(Array.from(raw(2, block, 32))).toEqual(want)
  })

  it('dequantizes Q4_K as ggml does: d·scale·nibble − dmin·min, 6-bit scales packed in 12 bytes', () => {
    const block = new Uint8Array(144)
    const dv = new DataView(block.buffer)
    dv.setUint16(0, 0x3c00, true) // d = 1
    dv.setUint16(2, 0x3800, true) // dmin = 0.5
    // Sub-blocks 0–3 keep scale and min in the low 6 bits of bytes 0–3 and 4–7; 4–7 split
    // theirs into bytes 8–11 (low 4 bits) and the top 2 bits of bytes 0–7.
    const sc = [1, 2, 3, 4, 5, 17, 33, 63]
    const mn = [0, 1, 2, 3, 4, 20, 40, 62]
    for (let j = 0; j < 4; j++) { block[4 + j] = sc[j]; block[8 + j] = mn[j] }
    for (let j = 4; j < 8; j++) {
      block[4 + j + 4] = (sc[j] & 15) | ((mn[j] & 15) << 4)
      block[4 + j - 4] |= (sc[j] >> 4) << 6
      block[4 + j] |= (mn[j] >> 4) << 6
    }
    // 32 bytes per pair of sub-blocks: low nibbles are sub-block 2p, high ones 2p + 1.
    for (let i = 0; i < 128; i++) block[16 + i] = (i % 16) | ((15 - (i % 16)) << 4)
    const got = raw(12, block, 256)
    for (let s = 0; s < 8; s++) {
      for (let l = 0; l < 32; l++) {
        const nibble = s % 2 === 0 ? l % 16 : 15 - (l % 16)
        expect(got[32 * s + l]).toBe(Math.fround(sc[s] * nibble - 0.5 * mn[s]))
      }
    }
  })

  it('the 4-bit formats stay within half a quantization step of the data', () => {
    const x = gaussian(1024, 0.1)
    for (const [type, steps] of [['Q4_0', 15], ['Q4_K', 15], ['Q8_0', 254]] as const) {
      const y = roundTrip(type, x)
      for (let b = 0; b < x.length; b += 32) {
        const blk = x.subarray(b, b + 32)
        const step = (Math.max(...blk) - Math.min(...blk, 0)) / steps
        for (let i = 0; i < 32; i++) expect(Math.abs(y[b + i] - x[b + i])).toBeLessThan(1.2 * step)
      }
    }
  })

  it('refuses a type it does not read, naming it and what works', () => {
    expect(() => raw(13, new Uint8Array(176), 256)).toThrow(UnsupportedModelError)
    expect(() => raw(13, new Uint8Array(176), 256)).toThrow(/tensor "t" is Q5_K, which Cerberus does not read; it reads F32, F16, BF16 and Q8_0 exactly and dequantizes Q4_0 and Q4_K/)
  })

  it('refuses non-finite weights', () => {
    expect(() => roundTrip('F32', Float32Array.of(1, NaN))).toThrow(GgufFormatError)
    expect(() => raw(1, new Uint8Array(new Uint16Array([0x3c00, 0x7c00]).buffer), 2)).toThrow(/tensor "t" has a non-finite value \(Infinity\) at index 1/)
  })

  it('writes the block sizes ggml expects', () => {
    const x = new Float32Array(512)
    expect([encodeTensor('Q8_0', x).length, encodeTensor('Q4_0', x).length, encodeTensor('Q4_K', x).length]).toEqual([16 * 34, 16 * 18, 2 * 144])
  })
})
