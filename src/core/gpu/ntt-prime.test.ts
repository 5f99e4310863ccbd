import { describe, expect, it } from 'vitest'
import { loadSeal, RING_PRESETS } from '../he/index.ts'
import { createContext } from '../he/params.ts'
import { isPrime, nttPrime } from './ntt-prime.ts'

describe('the NTT prime SEAL chooses', () => {
  it('isPrime agrees with trial division below 10^4', () => {
    const trial = (n: number): boolean => { if (n < 2) return false; for (let d = 2; d * d <= n; d++) if (n % d === 0) return false; return true }
    for (let n = 0; n < 10_000; n++) expect(isPrime(BigInt(n))).toBe(trial(n))
  })

  it('nttPrime(bits, N) is the prime SEAL picks for every ring preset', async () => {
    const seal = await loadSeal()
    for (const preset of Object.values(RING_PRESETS)) {
      const ctx = createContext(seal, { preset, plainBits: 16 })
      try {
        expect(nttPrime(preset.coeffBits[0], preset.polyDegree)).toBe(ctx.primes[0])
      } finally {
        ctx.delete()
      }
    }
  })
})
