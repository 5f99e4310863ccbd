import { describe, expect, it } from 'vitest'
import { prng } from '../../test/fixtures.ts'
import { packedBytes, packWords, unpackScaled, unpackWords } from './bitpack.ts'

describe('bit packing', () => {
  it('round-trips values of every width from 1 to 60 bits', () => {
    const rand = prng(3)
    for (let bits = 1; bits <= 60; bits++) {
      const count = 37
      const words = new Uint32Array(2 * count)
      for (let i = 0; i < count; i++) {
        const loBits = Math.min(bits, 32)
        const hiBits = bits - loBits
        words[2 * i] = Math.floor(rand() * 2 ** loBits) >>> 0
        words[2 * i + 1] = hiBits > 0 ? Math.floor(rand() * 2 ** hiBits) : 0
        if (i === 0) { // the maximum value
          words[0] = loBits === 32 ? 0xffffffff : 2 ** loBits - 1
          words[1] = hiBits > 0 ? 2 ** hiBits - 1 : 0
        }
      }
      const out = new Uint8Array(3 + packedBytes(count, bits))
      packWords(words, count, bits, out, 3)
      expect(unpackWords(out, 3, count, bits), `${bits} bits`).toEqual(words)
    }
  })

  it('uses exactly ⌈count·bits/8⌉ bytes', () => {
    expect(packedBytes(2048, 54)).toBe(13824)
    expect(packedBytes(3, 5)).toBe(2)
  })

  it('unpackScaled equals unpacking, then scaling and rounding each pair, at every width and offset, into given pair indices', () => {
    const rand = prng(11)
    const q = Number(18014398509404161n) // a 54-bit prime, as the double the user scales by
    for (let bits = 1; bits <= 60; bits++) {
      for (const count of [1, 2, 31, 33, 100]) {
        const words = new Uint32Array(2 * count)
        for (let i = 0; i < count; i++) {
          const loBits = Math.min(bits, 32)
          const hiBits = bits - loBits
          words[2 * i] = i === 0 ? (loBits === 32 ? 0xffffffff : 2 ** loBits - 1) : Math.floor(rand() * 2 ** loBits) >>> 0
          words[2 * i + 1] = hiBits > 0 ? (i === 0 ? 2 ** hiBits - 1 : Math.floor(rand() * 2 ** hiBits)) : 0
        }
        const offset = 1 + (bits % 5)
        const bytes = new Uint8Array(offset + packedBytes(count, bits) + 3)
        packWords(words, count, bits, bytes, offset)
        const unpacked = unpackWords(bytes, offset, count, bits)
        const scale = q / 2 ** bits
        const want = new Uint32Array(2 * (count + 3))
        const at = Int32Array.from({ length: count }, (_, i) => count + 2 - i) // reversed, shifted
        for (let i = 0; i < count; i++) {
          let v = Math.round((unpacked[2 * i + 1] * 4294967296 + unpacked[2 * i]) * scale)
          if (v >= q) v -= q
          want[2 * at[i]] = v % 4294967296
          want[2 * at[i] + 1] = Math.floor(v / 4294967296)
        }
        const got = new Uint32Array(2 * (count + 3))
        unpackScaled(bytes, offset, count, bits, scale, q, got, at)
        expect(got, `${bits} bits, ${count} values`).toEqual(want)
        if (bits <= 53) { // exact in float64: unscaled, the values themselves
          const plain = new Uint32Array(2 * count)
          unpackScaled(bytes, offset, count, bits, 1, 2 ** 61, plain)
          expect(plain, `${bits} bits, ${count} values, unscaled`).toEqual(unpacked)
        }
      }
    }
  })
})

