import { describe, expect, it } from 'vitest'
import { GenerationOptionsError } from './errors.ts'
import { createRng, randomF32, randomU32 } from './rng.ts'
import { argmax, createSampler, sample, softmaxF32 } from './sampler.ts'

describe('run.c xorshift RNG', () => {
  it('produces run.c\'s sequence for seed 42', () => {
    const rng = createRng(42)
    expect([1, 2, 3, 4, 5].map(() => randomU32(rng))).toEqual([1456360119, 3359763283, 3393612768, 4054632243, 3283045847])
  })

  it('takes negative seeds modulo 2^64, as C converts atoi\'s result', () => {
    const rng = createRng(-3)
    expect([randomF32(rng), randomF32(rng), randomF32(rng)].map(x => x.toPrecision(9))).toEqual(['0.994064271', '0.0396303535', '0.650755882'])
    expect(rng.state).toBe(5760385699209563641n)
  })

  it('refuses a zero state, which would never change', () => {
    expect(() => createRng(0)).toThrow(RangeError)
    expect(() => createRng(1n << 64n)).toThrow(RangeError)
  })

  it('draws floats in [0, 1) with 24 bits', () => {
    const rng = createRng(7)
    for (let i = 0; i < 10000; i++) {
      const x = randomF32(rng)
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThan(1)
      expect(Number.isInteger(x * 16777216)).toBe(true)
    }
  })
})

describe('sampler', () => {
  it('greedy takes the first maximum and ignores NaN', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1)
    expect(argmax([Number.NaN, 1, 0])).toBe(0)
    expect(argmax([0, Number.NaN, 5])).toBe(2)
    const s = createSampler({ temperature: 0, topp: 0.9 }, createRng(1))
    const rng0 = s.rng.state
    expect(sample(s, new Float32Array([0.1, 0.7, 0.2]))).toBe(1)
    expect(s.rng.state).toBe(rng0) // greedy does not consume randomness
  })

  it('softmax sums to one in float32', () => {
    const x = new Float32Array([1, 2, 3, 4, -100])
    softmaxF32(x)
    expect(x.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6)
    expect(x[4]).toBeGreaterThanOrEqual(0)
  })

  it('multinomial sampling follows the distribution', () => {
    const s = createSampler({ temperature: 1, topp: 1 }, createRng(3))
    const counts = [0, 0, 0]
    const logits = [Math.log(0.2), Math.log(0.3), Math.log(0.5)]
    for (let i = 0; i < 20000; i++) counts[sample(s, new Float32Array(logits))]++
    expect(counts[0] / 20000).toBeCloseTo(0.2, 1)
    expect(counts[2] / 20000).toBeCloseTo(0.5, 1)
  })

  it('top-p never picks a token outside the nucleus', () => {
    // probabilities 0.6, 0.3, 0.05, 0.05: nucleus for p = 0.8 is {0, 1}
    const logits = [0.6, 0.3, 0.05, 0.05].map(Math.log)
    const s = createSampler({ temperature: 1, topp: 0.8 }, createRng(11))
    for (let i = 0; i < 5000; i++) expect(sample(s, new Float32Array(logits))).toBeLessThan(2)
  })

  it('rejects options run.c would silently replace', () => {
    expect(() => createSampler({ temperature: -0.5, topp: 0.9 }, createRng(1))).toThrow(GenerationOptionsError)
    expect(() => createSampler({ temperature: Number.NaN, topp: 0.9 }, createRng(1))).toThrow(/temperature must be a number ≥ 0, got NaN/)
    expect(() => createSampler({ temperature: 1, topp: 1.5 }, createRng(1))).toThrow(/top-p must be a number in \[0, 1\], got 1.5/)
  })
})
