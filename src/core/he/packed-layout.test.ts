import { describe, expect, it } from 'vitest'
import { prng } from '../../test/fixtures.ts'
import { matvecInt8 } from '../model/w8a8.ts'
import { forEachOutput, mergeExponents, outputCount, packedLayout, treesOf } from './packed-layout.ts'
import { packedPlainModulus, packedResultBound } from './packed-params.ts'
import { matvecPackedTwin } from './packed-twin.ts'
import { randomInt8 } from '../../test/fixtures.ts'

function reference (w: Int8Array, dOut: number, dIn: number, x: Int8Array): Int32Array {
  const y = new Int32Array(dOut)
  matvecInt8(w, dOut, dIn, x, y)
  return y
}

describe('the packed plaintext modulus', () => {
  it('is the smallest prime ≡ 1 (mod 2N) above twice the largest dot product', () => {
    expect(packedPlainModulus(768, 4096)).toBe(25231361)
    for (const [dIn, n] of [[1, 256], [64, 256], [768, 4096], [2048, 4096], [4096, 4096]] as const) {
      const t = packedPlainModulus(dIn, n)
      expect(t % (2 * n)).toBe(1)
      expect(t).toBeGreaterThan(2 * packedResultBound(dIn))
    }
  })
})

describe('the packed layout', () => {
  it('places every result of every block at a distinct coefficient of its tree', () => {
    const L = packedLayout(300, 70, 256, { m: 2, orbitLevels: 2, vectors: 2, batch: 3 })
    const seen = new Map<string, number>()
    let results = 0
    for (let b = 0; b < L.blocks; b++) {
      forEachOutput(L, b, (pos, vec, row) => {
        const key = `${Math.floor(b / L.perTree)}/${pos}`
        expect(seen.has(key)).toBe(false)
        seen.set(key, vec * 1000 + row)
        expect(pos).toBeLessThan(256)
        results++
      })
    }
    expect(results).toBe(3 * 300)
    expect(outputCount(L, 0, L.blocks)).toBe(900)
  })

  it('counts the merges on each slot\'s path', () => {
    expect(Array.from(mergeExponents([true, true, true, true]))).toEqual([2, 2, 2, 2])
    expect(Array.from(mergeExponents([true, true, true, false]))).toEqual([2, 1, 2, 0])
    expect(Array.from(mergeExponents([true, false, false, false]))).toEqual([0, 0, 0, 0])
  })

  it('splits a block range by tree', () => {
    const L = packedLayout(4096, 64, 256, { m: 2, orbitLevels: 1 })
    expect(L.perTree).toBe(32)
    expect(treesOf(L, 30, 70)).toEqual([{ tree: 0, first: 30, end: 32 }, { tree: 1, first: 32, end: 64 }, { tree: 2, first: 64, end: 70 }])
  })
})

describe('matvecPackedTwin == matvecInt8 (N = 256, many shapes, splits and batches)', () => {
  const rand = prng(91)
  const cases: Array<[number, number, number, number, number, number]> = [
    // dOut, dIn, m, b, vectors, batch
    [1, 1, 1, 0, 1, 1], [5, 7, 2, 1, 1, 1], [64, 64, 2, 2, 1, 1], [100, 37, 3, 2, 1, 1], [37, 100, 1, 3, 1, 1],
    [200, 128, 1, 2, 1, 1], [256, 64, 2, 4, 1, 1], [300, 17, 4, 2, 2, 3], [33, 200, 2, 3, 4, 5], [120, 60, 2, 0, 1, 2],
    [96, 32, 3, 3, 8, 8], [500, 20, 3, 5, 1, 1], [64, 128, 1, 7, 1, 1], [10, 300, 2, 2, 2, 4]
  ]
  for (const [dOut, dIn, m, b, v, batch] of cases) {
    it(`${dOut}×${dIn}, m=${m}, b=${b}, ${v} vectors/ct, batch ${batch}`, () => {
      const L = packedLayout(dOut, dIn, 256, { m, orbitLevels: b, vectors: v, batch })
      const t = packedPlainModulus(dIn, 256)
      const w = randomInt8(dOut * dIn, rand, dOut % 3 === 0 ? 'extreme' : 'random')
      const xs = Array.from({ length: batch }, (_, k) => randomInt8(dIn, rand, k === 0 ? 'extreme' : 'random'))
      expect(matvecPackedTwin(L, w, xs, t)).toEqual(xs.map(x => reference(w, dOut, dIn, x)))
    })
  }

  it('all −128 data (the extreme the bound allows)', () => {
    const L = packedLayout(70, 90, 256, { m: 1, orbitLevels: 3 })
    const t = packedPlainModulus(90, 256)
    const w = new Int8Array(70 * 90).fill(-128)
    const x = new Int8Array(90).fill(-128)
    expect(matvecPackedTwin(L, w, [x], t)[0]).toEqual(reference(w, 70, 90, x))
  })

  it('a block range computes its own results, partially packed', () => {
    const L = packedLayout(400, 50, 256, { m: 2, orbitLevels: 2, batch: 2 })
    const t = packedPlainModulus(50, 256)
    const w = randomInt8(400 * 50, rand)
    const xs = [randomInt8(50, rand), randomInt8(50, rand)]
    const full = xs.map(x => reference(w, 400, 50, x))
    const parts = [[0, 7], [7, 30], [30, L.blocks]] as const
    const got = xs.map(() => new Int32Array(400))
    for (const r of parts) {
      const y = matvecPackedTwin(L, w, xs, t, r)
      for (let k = 0; k < 2; k++) for (let i = 0; i < 400; i++) got[k][i] += y[k][i]
    }
    expect(got).toEqual(full)
  })
})
