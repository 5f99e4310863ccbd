import { prng, randomInt8 } from '../../test/fixtures.ts'
import { describe, expect, it } from 'vitest'
import { matvecInt8 } from '../model/w8a8.ts'
import { FREIVALDS_PRIMES, freivaldsCheck, freivaldsKey } from './freivalds.ts'

function isPrime (n: number): boolean {
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false
  return n > 1
}

describe('Freivalds verification', () => {
  it('uses two primes below 2^26 whose product exceeds any result difference', () => {
    for (const p of FREIVALDS_PRIMES) {
      expect(isPrime(p)).toBe(true)
      expect(p).toBeLessThan(2 ** 26)
    }
    expect(FREIVALDS_PRIMES[0] * FREIVALDS_PRIMES[1]).toBeGreaterThan(2 ** 29)
  })

  const rand = prng(99)
  const rows = 96
  const cols = 80
  const w = randomInt8(rows * cols, rand)
  const seeded = (seed: number): ((n: number) => Uint32Array) => {
    const r = prng(seed)
    return n => Uint32Array.from({ length: n }, () => Math.floor(r() * 4294967296))
  }
  const key = freivaldsKey(w, rows, cols, seeded(1))
  const honest = (x: Int8Array): Int32Array => {
    const y = new Int32Array(rows)
    matvecInt8(w, rows, cols, x, y)
    return y
  }

  it('never rejects an honest result (1,000 jobs, random and extreme inputs)', () => {
    for (let i = 0; i < 1000; i++) {
      const x = randomInt8(cols, rand, i % 10 === 0 ? 'extreme' : 'random')
      expect(freivaldsCheck(key, x, honest(x))).toBe(true)
    }
  })

  it('rejects 1,000 tampered results: one coefficient changed, another job, a stale result, zeros', () => {
    let previous = honest(randomInt8(cols, rand))
    let rejected = 0
    for (let i = 0; i < 1000; i++) {
      const x = randomInt8(cols, rand)
      const y = honest(x)
      let bad: Int32Array
      switch (i % 4) {
        case 0: { // one coefficient off by a random non-zero amount (±1 up to ±2^27)
          bad = y.slice()
          const delta = (i % 8 === 0 ? 1 : Math.floor(rand() * 2 ** 27) + 1) * (rand() < 0.5 ? -1 : 1)
          bad[Math.floor(rand() * rows)] += delta
          break
        }
        case 1: bad = honest(randomInt8(cols, rand)); break // the result of another job
        case 2: bad = previous; break // a stale result
        default: bad = new Int32Array(rows) // zeros
      }
      if (!freivaldsCheck(key, x, bad)) rejected++
      previous = y
    }
    expect(rejected).toBe(1000)
  })

  it('rejects a result off by a multiple of one prime (the other prime catches it)', () => {
    const x = randomInt8(cols, rand)
    const y = honest(x)
    for (const p of FREIVALDS_PRIMES) {
      const bad = y.slice()
      bad[3] += p
      expect(freivaldsCheck(key, x, bad)).toBe(false)
    }
  })

  it('rejects results of the wrong length', () => {
    const x = randomInt8(cols, rand)
    expect(freivaldsCheck(key, x, honest(x).subarray(1))).toBe(false)
  })
})
