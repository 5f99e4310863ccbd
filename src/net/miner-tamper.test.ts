/** The test-only liar: each mode changes what it says it changes, and an honest miner nothing. */
import { describe, expect, it } from 'vitest'
import { createTamper } from './miner-tamper.ts'

const results = (v: number): Uint8Array[] => [new Uint8Array(40).fill(v)]

describe('the tampering miner (tests only)', () => {
  it('honest: results unchanged; flip: one bit of each; zero: every coefficient after the header', () => {
    expect(createTamper(undefined)('s', 'k', results(5))).toEqual(results(5))
    const flipped = createTamper('flip')('s', 'k', results(5))[0]
    expect(flipped.filter((b, i) => b !== 5 || i === 39)).toHaveLength(1)
    expect(flipped[39]).toBe(4)
    const zeroed = createTamper('zero')('s', 'k', results(5))[0]
    expect([...zeroed.subarray(0, 28)].every(b => b === 5) && [...zeroed.subarray(28)].every(b => b === 0)).toBe(true)
  })

  it('stale: honest the first time a matrix is asked, then its previous result', () => {
    const t = createTamper('stale')
    expect(t('s', 'k', results(1))).toEqual(results(1))
    expect(t('s', 'k', results(2))).toEqual(results(1))
    expect(t('s', 'other', results(3))).toEqual(results(3))
  })

  it('flipAfter N: honest for the first N jobs of each session, then flips', () => {
    const t = createTamper({ flipAfter: 2 })
    expect(t('a', 'k', results(9))).toEqual(results(9))
    expect(t('a', 'k', results(9))).toEqual(results(9))
    expect(t('a', 'k', results(9))).not.toEqual(results(9))
    expect(t('b', 'k', results(9))).toEqual(results(9))
  })
})
