import { describe, expect, it } from 'vitest'
import { gv, writeGguf, type GgufSpec } from '../../test/gguf-writer.ts'
import { GgufFormatError } from './errors.ts'
import { GGUF_LIMITS, isGguf, parseGguf, type GgufValue } from './gguf.ts'

const EVERY_TYPE: Array<[string, GgufValue]> = [
  ['t.u8', { type: 'u8', value: 255 }],
  ['t.i8', { type: 'i8', value: -128 }],
  ['t.u16', { type: 'u16', value: 65535 }],
  ['t.i16', { type: 'i16', value: -32768 }],
  ['t.u32', { type: 'u32', value: 4294967295 }],
  ['t.i32', { type: 'i32', value: -2147483648 }],
  ['t.f32', { type: 'f32', value: Math.fround(3.14159) }],
  ['t.f64', { type: 'f64', value: Math.PI }],
  ['t.u64', { type: 'u64', value: 18446744073709551615n }],
  ['t.i64', { type: 'i64', value: -9223372036854775808n }],
  ['t.bool', { type: 'bool', value: true }],
  ['t.string', { type: 'string', value: 'héllo ▁ 🙂' }],
  ['t.empty', { type: 'string', value: '' }],
  ['a.u8', { type: 'array', itemType: 'u8', value: Uint8Array.of(1, 2, 3) }],
  ['a.i8', { type: 'array', itemType: 'i8', value: Int8Array.of(-1, 2) }],
  ['a.u16', { type: 'array', itemType: 'u16', value: Uint16Array.of(1, 65535) }],
  ['a.i16', { type: 'array', itemType: 'i16', value: Int16Array.of(-2, 3) }],
  ['a.u32', { type: 'array', itemType: 'u32', value: Uint32Array.of(7) }],
  ['a.i32', { type: 'array', itemType: 'i32', value: Int32Array.of(-7, 0, 7) }],
  ['a.f32', { type: 'array', itemType: 'f32', value: Float32Array.of(0.5, -0.25) }],
  ['a.f64', { type: 'array', itemType: 'f64', value: Float64Array.of(1e300) }],
  ['a.u64', { type: 'array', itemType: 'u64', value: BigUint64Array.of(1n, 2n ** 63n) }],
  ['a.i64', { type: 'array', itemType: 'i64', value: BigInt64Array.of(-1n) }],
  ['a.bool', { type: 'array', itemType: 'bool', value: [true, false] }],
  ['a.string', { type: 'array', itemType: 'string', value: ['a', '', '▁b'] }],
  ['a.empty', { type: 'array', itemType: 'u32', value: new Uint32Array(0) }],
  ['a.nested', { type: 'array', itemType: 'array', value: [{ type: 'array', itemType: 'string', value: ['x'] }, { type: 'array', itemType: 'i32', value: Int32Array.of(5) }] }]
]

function tiny (extra: { alignment?: number } = {}): Uint8Array {
  return writeGguf({
    metadata: EVERY_TYPE,
    tensors: [
      { name: 'a', dims: [4], type: 'F32', data: Float32Array.of(1, 2, 3, 4) },
      { name: 'b', dims: [32, 2], type: 'Q8_0', data: new Float32Array(64).fill(1) }
    ],
    ...extra
  })
}

describe('parseGguf', () => {
  it('reads every metadata type, arrays (nested too) included, exactly', () => {
    const f = parseGguf(tiny())
    expect(f.version).toBe(3)
    expect([...f.metadata.keys()]).toEqual(EVERY_TYPE.map(([k]) => k))
    for (const [k, v] of EVERY_TYPE) expect(f.metadata.get(k)).toEqual(v)
  })

  it('finds the tensors after the aligned header, at their aligned offsets', () => {
    for (const alignment of [32, 64, 1, 256]) {
      const bytes = tiny({ alignment })
      const f = parseGguf(bytes)
      expect(f.alignment).toBe(alignment)
      expect(f.dataOffset % alignment).toBe(0)
      const [a, b] = f.tensors
      expect(a).toMatchObject({ name: 'a', dims: [4], type: 0, elements: 4, byteLength: 16, fileOffset: f.dataOffset })
      expect(b).toMatchObject({ name: 'b', dims: [32, 2], type: 8, elements: 64, byteLength: 68 })
      expect((b.fileOffset - f.dataOffset) % alignment).toBe(0)
      expect(new Float32Array(bytes.slice(a.fileOffset, a.fileOffset + 16).buffer)).toEqual(Float32Array.of(1, 2, 3, 4))
    }
  })

  it('reads version 2 files (same layout)', () => {
    expect(parseGguf(writeGguf({ metadata: [['k', gv.u32(1)]], tensors: [], version: 2 })).version).toBe(2)
  })

  it('sniffs the magic', () => {
    expect(isGguf(tiny())).toBe(true)
    expect(isGguf(new Uint8Array([0x47, 0x47, 0x55]))).toBe(false)
    expect(isGguf(new Uint8Array(28))).toBe(false)
  })
})

// Offsets into a file written by writeGguf with one u32 key "k" and no tensors.
function withHeader (patch: (dv: DataView, bytes: Uint8Array) => void, spec: GgufSpec = { metadata: [['k', gv.u32(1)]], tensors: [] }): Uint8Array {
  const bytes = writeGguf(spec)
  patch(new DataView(bytes.buffer), bytes)
  return bytes
}

describe('parseGguf refuses malformed files with a GgufFormatError that says what is wrong', () => {
  const oneTensor = { metadata: [] as Array<[string, GgufValue]>, tensors: [{ name: 'w', dims: [8, 2], type: 'F32' as const, data: new Float32Array(16) }] }
  const cases: Array<[string, () => Uint8Array, RegExp]> = [
    ['an empty file', () => new Uint8Array(0), /fewer than the 4-byte magic/],
    ['a llama2.c checkpoint', () => new Uint8Array(new Int32Array([64, 172, 5, 8, 4, 512, 512]).buffer), /magic is 40 00 00 00, not "GGUF"/],
    ['version 1', () => withHeader(dv => dv.setUint32(4, 1, true)), /unsupported GGUF version 1 .*predates August 2023/],
    ['version 4', () => withHeader(dv => dv.setUint32(4, 4, true)), /unsupported GGUF version 4: Cerberus reads versions 2 and 3/],
    ['a big-endian file', () => withHeader(dv => dv.setUint32(4, 3, false)), /big-endian/],
    ['a header cut short', () => tiny().slice(0, 12), /the file ends inside the tensor count/],
    ['a tensor count over the limit', () => withHeader(dv => dv.setBigUint64(8, BigInt(GGUF_LIMITS.maxTensors + 1), true)), /tensor count is 65537, more than the limit 65536/],
    ['a tensor count the file cannot hold', () => withHeader(dv => dv.setBigUint64(8, 1000n, true)), /tensor count is 1000, but only \d+ bytes remain/],
    ['a key count of 2^62', () => withHeader(dv => dv.setBigUint64(16, 2n ** 62n, true)), /metadata key count is out of range/],
    ['a key length of 2^40', () => withHeader(dv => dv.setBigUint64(24, 2n ** 40n, true)), /metadata key 0 is 1099511627776 bytes long, more than the limit/],
    ['an unknown value type', () => withHeader(dv => dv.setUint32(33, 13, true)), /metadata "k" has value type 13, which GGUF does not define/],
    ['a string longer than the file', () => writeGguf({ metadata: [['s', gv.str('abc')]], tensors: [] }).slice(0, 46), /ends inside metadata "s"/],
    ['invalid UTF-8', () => withHeader((_, b) => { b[32] = 0xff }), /metadata key 0 is not valid UTF-8/],
    ['a bool that is 2', () => withHeader((_, b) => { b[37] = 2 }, { metadata: [['k', gv.bool(true)]], tensors: [] }), /bool with the byte 2/],
    ['an array claiming 2^24 + 1 items', () => withHeader(dv => dv.setBigUint64(41, BigInt(GGUF_LIMITS.maxArrayLength + 1), true), { metadata: [['k', gv.i32s([1])]], tensors: [] }), /length of metadata "k" is 16777217, more than the limit/],
    ['an array claiming more items than bytes', () => withHeader(dv => dv.setBigUint64(41, 1000000n, true), { metadata: [['k', gv.i32s([1])]], tensors: [] }), /length of metadata "k" is 1000000, but only \d+ bytes remain/],
    ['a duplicate key', () => writeGguf({ metadata: [['k', gv.u32(1)], ['k', gv.u32(2)]], tensors: [] }), /metadata key "k" appears twice/],
    ['alignment 3', () => writeGguf({ metadata: [['general.alignment', gv.u32(3)]], tensors: [] }), /general.alignment is 3; it must be a power of two/],
    ['alignment of the wrong type', () => writeGguf({ metadata: [['general.alignment', gv.str('32')]], tensors: [] }), /general.alignment has type string; GGUF requires u32/],
    ['a duplicate tensor', () => writeGguf({ metadata: [], tensors: [oneTensor.tensors[0], oneTensor.tensors[0]] }), /tensor "w" appears twice/],
    ['0 dimensions', () => withHeader((dv) => dv.setUint32(33, 0, true), oneTensor), /tensor "w" has 0 dimensions/],
    ['5 dimensions', () => withHeader((dv) => dv.setUint32(33, 5, true), oneTensor), /tensor "w" has 5 dimensions/],
    ['an unknown tensor type', () => withHeader((dv) => dv.setUint32(53, 99, true), oneTensor), /tensor "w" has ggml type 99, which is unknown/],
    ['a removed tensor type (Q4_2)', () => withHeader((dv) => dv.setUint32(53, 4, true), oneTensor), /ggml type 4, which is unknown/],
    ['a misaligned tensor', () => withHeader((dv) => dv.setBigUint64(57, 4n, true), oneTensor), /starts at data offset 4, not a multiple of the alignment 32/],
    ['a tensor past the end', () => withHeader((dv) => dv.setBigUint64(57, 32n, true), oneTensor), /tensor "w" needs bytes 32…96 of the data section, but the file has 64 \(it is truncated\)/],
    ['truncated tensor data', () => writeGguf(oneTensor).slice(0, -8), /needs bytes 0…64 of the data section, but the file has 56/],
    ['huge dimensions', () => withHeader((dv) => { dv.setBigUint64(37, 2n ** 40n, true); dv.setBigUint64(45, 2n ** 40n, true) }, oneTensor), /too many elements/],
    ['a Q8_0 row that is not whole blocks', () => withHeader((dv) => dv.setUint32(53, 8, true), oneTensor), /is Q8_0 \(blocks of 32\) but its rows have 8 elements/]
  ]
  for (const [what, make, message] of cases) {
    it(`refuses ${what}`, () => {
      const bytes = make()
      expect(() => parseGguf(bytes)).toThrow(GgufFormatError)
      expect(() => parseGguf(bytes)).toThrow(message)
    })
  }
})
