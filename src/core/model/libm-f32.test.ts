import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { cosf, expf, fma, sinf } from './libm-f32.ts'
import { prng } from '../../test/fixtures.ts'

const f = new Float32Array(1)
const u = new Uint32Array(f.buffer)
const fromBits = (h: string): number => { u[0] = parseInt(h, 16); return f[0] }
const toBits = (x: number): string => { f[0] = x; return u[0].toString(16).padStart(8, '0') }

// 3,000 float32 inputs where glibc 2.36 (x86-64, FMA) gives a result that differs from the
// correctly rounded one for at least one of expf/sinf/cosf, with glibc's three results.
const cases = readFileSync(new URL('./testdata/glibc-f32-cases.txt', import.meta.url), 'utf8').trim().split('\n').map(l => l.split(' '))

describe('glibc float32 functions', () => {
  it('expf, sinf and cosf equal glibc where naive rounding does not', () => {
    let naiveDiffers = 0
    for (const [x, e, s, c] of cases) {
      const v = fromBits(x)
      expect([toBits(expf(v)), toBits(sinf(v)), toBits(cosf(v))], `x = ${v}`).toEqual([e, s, c])
      if (toBits(Math.exp(v)) !== e || toBits(Math.sin(v)) !== s || toBits(Math.cos(v)) !== c) naiveDiffers++
    }
    expect(cases.length).toBe(3000)
    expect(naiveDiffers).toBe(3000)
  })

  it('handles the special values', () => {
    expect(expf(Number.NEGATIVE_INFINITY)).toBe(0)
    expect(expf(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY)
    expect(expf(89)).toBe(Number.POSITIVE_INFINITY)
    expect(expf(-104)).toBe(0)
    expect(expf(0)).toBe(1)
    expect(Number.isNaN(expf(Number.NaN))).toBe(true)
    expect(Number.isNaN(sinf(Number.POSITIVE_INFINITY))).toBe(true)
    expect(cosf(0)).toBe(1)
    expect(sinf(-0)).toBe(-0)
  })
})

// An exact reference for a·b + c with one rounding: BigInt rationals.
function fmaExact (a: number, b: number, c: number): number {
  const parts = (x: number): [bigint, number] => { // x = m · 2^e, m integer
    if (x === 0) return [0n, 0]
    let e = 0
    while (!Number.isInteger(x)) { x *= 2; e-- }
    return [BigInt(x), e]
  }
  const [ma, ea] = parts(a)
  const [mb, eb] = parts(b)
  const [mc, ec] = parts(c)
  const e = Math.min(ea + eb, ec)
  const num = ma * mb * (1n << BigInt(ea + eb - e)) + mc * (1n << BigInt(ec - e))
  // Round num · 2^e to float64: take 53 significant bits, round half to even.
  if (num === 0n) return 0
  const neg = num < 0n
  let m = neg ? -num : num
  let exp = e
  const len = m.toString(2).length
  if (len > 53) {
    const drop = BigInt(len - 53)
    const rem = m & ((1n << drop) - 1n)
    const half = 1n << (drop - 1n)
    m >>= drop
    exp += Number(drop)
    if (rem > half || (rem === half && (m & 1n) === 1n)) m += 1n
  }
  const v = Number(m) * Math.pow(2, exp)
  return neg ? -v : v
}

describe('fma', () => {
  it('rounds once, like the hardware instruction, on hard cases', () => {
    const rand = prng(17)
    for (let i = 0; i < 20000; i++) {
      const a = (rand() - 0.5) * Math.pow(2, Math.floor(rand() * 40) - 20)
      const b = (rand() - 0.5) * Math.pow(2, Math.floor(rand() * 40) - 20)
      // c close to −a·b makes cancellation, the hard case for emulation
      const c = i % 2 === 0 ? -(a * b) * (1 + (rand() - 0.5) * 1e-12) : (rand() - 0.5)
      expect(fma(a, b, c)).toBe(fmaExact(a, b, c))
    }
  })

  it('differs from a·b + c when double rounding would', () => {
    const a = 1 + Math.pow(2, -30)
    const b = 1 + Math.pow(2, -30)
    const c = -1
    expect(fma(a, b, c)).toBe(Math.pow(2, -29) + Math.pow(2, -60))
    expect(a * b + c).toBe(Math.pow(2, -29))
  })
})
