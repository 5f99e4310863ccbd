import { describe, expect, it } from 'vitest'
import { prng } from '../prng.ts'
import { GpuGraphError, GpuJobError } from './errors.ts'
import { residues } from './known-job.ts'
import { checkResidues, limbCount, limbsOf, wordsToLimbs } from './limbs.ts'

const toBig = (w: Uint32Array, i: number): bigint => (BigInt(w[2 * i + 1]) << 32n) | BigInt(w[2 * i])

describe('limbs of u64 residues', () => {
  for (const bits of [34, 44, 45, 54, 55, 56, 61]) {
    const q = (1n << BigInt(bits)) - 1n // odd, bits wide: the limb split only needs the width
    it(`wordsToLimbs equals BigInt's 11-bit limbs at ${bits} bits (extremes and random)`, () => {
      const m = limbCount(q)
      expect(m).toBe(Math.ceil(bits / 11))
      const words = residues(q, 500, 'mixed', prng(bits))
      const out = new Int32Array(500 * m)
      wordsToLimbs(words, 0, 500, m, out, 0)
      for (let i = 0; i < 500; i++) expect(Array.from(out.subarray(i * m, (i + 1) * m))).toEqual(limbsOf(toBig(words, i), m).map(Number))
    })
  }

  it('refuses moduli outside 34–61 bits and even ones', () => {
    expect(() => limbCount((1n << 33n) - 1n)).toThrow(GpuGraphError)
    expect(() => limbCount(1n << 61n)).toThrow(GpuGraphError)
    expect(() => limbCount((1n << 50n) + 2n)).toThrow(GpuGraphError)
  })

  it('checkResidues accepts q − 1 and rejects q, q + 1 and a wrong length', () => {
    const q = 18014398509404161n
    const w = (v: bigint): Uint32Array => Uint32Array.of(Number(v & 0xffffffffn), Number(v >> 32n))
    expect(() => { checkResidues(w(q - 1n), 1, q, 'x') }).not.toThrow()
    expect(() => { checkResidues(w(q), 1, q, 'x') }).toThrow(GpuJobError)
    expect(() => { checkResidues(w(q + 1n), 1, q, 'x') }).toThrow(/not below q/)
    expect(() => { checkResidues(new Uint32Array(3), 2, q, 'x') }).toThrow(/3 words, expected 4/)
  })
})
