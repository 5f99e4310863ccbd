import { describe, expect, it } from 'vitest'
import { prng } from '../../../test/fixtures.ts'
import { barrett, createMacKernel, foldInterval } from './mac-kernel.ts'
import { sleb, uleb } from './wasm-asm.ts'

function randomBelow (q: bigint, rand: () => number): bigint {
  const hi = BigInt(Math.floor(rand() * 2 ** 30))
  const lo = BigInt(Math.floor(rand() * 2 ** 32))
  return ((hi << 32n) | lo) % q
}

describe('the WebAssembly MAC kernel', () => {
  it('encodes LEB128 as the spec says', () => {
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26])
    expect(sleb(-123456n)).toEqual([0xc0, 0xbb, 0x78])
    expect(sleb(0xffffffffn)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f])
  })

  for (const q of [18014398509404161n /* 54-bit */, 1152921504606830593n /* 60-bit */, 1125899906826241n /* 50-bit */]) {
    it(`Σ x·w mod q equals BigInt for a ${q.toString(2).length}-bit prime, with folding`, () => {
      const rand = prng(Number(q % 1000n))
      const k = createMacKernel()
      const n = 64
      const chunks = 40
      const fold = foldInterval(q)
      const { mu, shift } = barrett(q)
      // layout: X (chunks × 2n u64), W (chunks × n u64), ACC (2 × n × 16 B), OUT (2n u64)
      const xOff = 0
      const wOff = xOff + chunks * 2 * n * 8
      const aOff = wOff + chunks * n * 8
      const oOff = aOff + 2 * n * 16
      k.ensure(oOff + 2 * n * 8)
      const mem = new BigUint64Array(k.memory.buffer)
      const ref = [new Array<bigint>(n).fill(0n), new Array<bigint>(n).fill(0n)]
      for (let c = 0; c < chunks; c++) {
        for (let i = 0; i < n; i++) {
          // include the extremes q − 1
          const w = i === 0 ? q - 1n : randomBelow(q, rand)
          mem[(wOff >> 3) + c * n + i] = w
          for (let p = 0; p < 2; p++) {
            const x = i === 0 ? q - 1n : randomBelow(q, rand)
            mem[(xOff >> 3) + (c * 2 + p) * n + i] = x
            ref[p][i] = (ref[p][i] + x * w) % q
          }
        }
      }
      new Uint8Array(k.memory.buffer, aOff, 2 * n * 16).fill(0)
      for (let c = 0; c < chunks; c++) {
        k.mac2(xOff + c * 2 * n * 8, xOff + (c * 2 + 1) * n * 8, wOff + c * n * 8, aOff, aOff + n * 16, n)
        if ((c + 1) % fold === 0) k.reduce(aOff, aOff, 2 * n, q, mu, shift, 16)
      }
      k.reduce(aOff, oOff, 2 * n, q, mu, shift, 8)
      const out = new BigUint64Array(k.memory.buffer, oOff, 2 * n)
      expect(Array.from(out.subarray(0, n))).toEqual(ref[0])
      expect(Array.from(out.subarray(n))).toEqual(ref[1])
    })
  }
})
