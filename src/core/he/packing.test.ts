import { prng, randomInt8 } from '../../test/fixtures.ts'
import { describe, expect, it } from 'vitest'
import { matvecInt8 } from '../model/w8a8.ts'
import { blockSplit, matvecPacked, plainBitsFor, resultBound, resultPositions } from './packing.ts'

function reference (w: Int8Array, dOut: number, dIn: number, x: Int8Array): Int32Array {
  const y = new Int32Array(dOut)
  matvecInt8(w, dOut, dIn, x, y)
  return y
}

describe('coefficient packing (plaintext twin)', () => {
  it('sizes t to hold every ±127 dot product', () => {
    for (const d of [1, 64, 768, 3072, 4096, 100_000]) {
      expect(2 ** plainBitsFor(d)).toBeGreaterThan(2 * resultBound(d))
      expect(2 ** (plainBitsFor(d) - 1)).toBeLessThanOrEqual(2 * resultBound(d))
    }
  })

  it('splits a matrix into chunks of n_i inputs and blocks of n_o = ⌊N/n_i⌋ rows', () => {
    expect(blockSplit(768, 768, 2048, 64)).toEqual({ dOut: 768, dIn: 768, polyDegree: 2048, nI: 64, nO: 32, chunks: 12, blocks: 24 })
    expect(blockSplit(10, 768, 2048, 1000 - 232)).toMatchObject({ nO: 2, chunks: 1, blocks: 5 })
    expect(blockSplit(3, 5, 256, 5).nO).toBe(3) // capped at d_out
    expect(resultPositions(blockSplit(70, 64, 2048, 64), 2)).toEqual([63, 127, 191, 255, 319, 383])
    expect(() => blockSplit(4, 4, 256, 5)).toThrow(RangeError)
  })

  const rand = prng(42)
  const shapes: Array<[number, number, number, number]> = [
    // dOut, dIn, N, nI
    [1, 1, 256, 1], [7, 3, 256, 2], [64, 64, 256, 16], [100, 37, 256, 16], [37, 100, 256, 100], [256, 256, 256, 1],
    [3, 256, 256, 256], [300, 5, 256, 5], [64, 64, 2048, 64], [768, 768, 2048, 64], [172, 64, 2048, 7]
  ]
  for (const [dOut, dIn, n, nI] of shapes) {
    for (const kind of ['random', 'extreme', 'sparse'] as const) {
      it(`equals the int8 matvec for ${dOut}×${dIn}, N=${n}, n_i=${nI}, ${kind} values`, () => {
        const w = randomInt8(dOut * dIn, rand, kind)
        const x = randomInt8(dIn, rand, kind === 'sparse' ? 'random' : kind)
        const s = blockSplit(dOut, dIn, n, nI)
        expect(matvecPacked(s, w, x, plainBitsFor(dIn))).toEqual(reference(w, dOut, dIn, x))
      })
    }
  }

  it('handles all-zero blocks and the extreme ±127 corner exactly', () => {
    const dOut = 50
    const dIn = 40
    const w = new Int8Array(dOut * dIn)
    for (let r = 25; r < 50; r++) for (let j = 0; j < dIn; j++) w[r * dIn + j] = -127 // rows 0..24 all zero
    const x = new Int8Array(dIn).fill(-127)
    const s = blockSplit(dOut, dIn, 256, 8)
    const y = matvecPacked(s, w, x, plainBitsFor(dIn))
    expect(Array.from(y.subarray(0, 25))).toEqual(new Array(25).fill(0))
    expect(Array.from(y.subarray(25))).toEqual(new Array(25).fill(dIn * 127 * 127))
  })
})
