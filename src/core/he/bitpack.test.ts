import { describe, expect, it } from 'vitest'
import { prng } from '../../test/fixtures.ts'
import { packedBytes, packWords, unpackWords } from './bitpack.ts'

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
})
