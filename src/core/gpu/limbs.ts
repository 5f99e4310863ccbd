/**
 * Residues mod a 34–61-bit prime q as limbs of {@link LIMB_BITS} bits, the form in which
 * int32 arithmetic multiplies them exactly (a limb product is < 2^22), and the checks and
 * conversions between the WebAssembly kernel's u64 words — (lo, hi) little-endian
 * Uint32 pairs — and limbs.
 */
import { GpuGraphError, GpuJobError } from './errors.ts'

/**
 * Bits per limb. 11 makes a limb product < 2^22, so one int32 sum can hold
 * ⌊(2^31 − 1) / (2^11 − 1)²⌋ = 512 products; 12 would allow only 127, 13 only 31, and the
 * pair sums of the graph (up to 5 products per output limb, ×chunks) need the room.
 */
export const LIMB_BITS = 11
/** 2^LIMB_BITS. */
export const LIMB_BASE = 1n << BigInt(LIMB_BITS)
/** Smallest prime width supported: the in-graph split takes limbs 0–2 from the low word and needs ≥ 1 limb of the high word. */
export const MIN_PRIME_BITS = 34
/** Largest prime width supported: a residue's high word stays < 2^29, and 2q < 2^62 keeps every candidate's high word in int32. SEAL's primes are ≤ 60 bits. */
export const MAX_PRIME_BITS = 61

/** Bit width of q. */
export function primeBits (q: bigint): number {
  return q.toString(2).length
}

/**
 * Limbs per residue: ⌈bits(q) / 11⌉ (5 for today's 54-bit prime, 6 for 56–61 bits).
 * @throws {GpuGraphError} for a modulus outside [2^33, 2^61) or an even one.
 */
export function limbCount (q: bigint): number {
  const bits = primeBits(q)
  if (bits < MIN_PRIME_BITS || bits > MAX_PRIME_BITS || q % 2n === 0n) throw new GpuGraphError(`the GPU multiply-accumulate needs an odd modulus of ${MIN_PRIME_BITS}–${MAX_PRIME_BITS} bits, got ${q} (${bits} bits)`)
  return Math.ceil(bits / LIMB_BITS)
}

/** The m limbs of 0 ≤ v < 2^(11m), least significant first. */
export function limbsOf (v: bigint, m: number): bigint[] {
  const out: bigint[] = []
  for (let i = 0; i < m; i++) out.push((v >> BigInt(LIMB_BITS * i)) & (LIMB_BASE - 1n))
  return out
}

/**
 * Write the limbs of `count` u64 words (lo, hi pairs from `words[2·from]`) to `out` at
 * `at`, m per residue: bit-exact with the graph's own split of its input words.
 */
export function wordsToLimbs (words: Uint32Array, from: number, count: number, m: number, out: Int32Array, at: number): void {
  const mask = (1 << LIMB_BITS) - 1
  for (let i = 0; i < count; i++) {
    const lo = words[2 * (from + i)]
    const hi = words[2 * (from + i) + 1]
    for (let l = 0; l < m; l++) {
      const bit = LIMB_BITS * l
      let v: number
      if (bit + LIMB_BITS <= 32) v = (lo >>> bit) & mask
      else if (bit >= 32) v = (hi >>> (bit - 32)) & mask
      else v = ((lo >>> bit) | (hi << (32 - bit))) & mask
      out[at + i * m + l] = v
    }
  }
}

/**
 * Check `words` holds `count` residues, each < q (two 32-bit compares per residue).
 * @throws {GpuJobError} naming the first wrong size or residue.
 */
export function checkResidues (words: Uint32Array, count: number, q: bigint, what: string): void {
  if (words.length !== 2 * count) throw new GpuJobError(`${what}: ${words.length} words, expected ${2 * count} (${count} residues as lo, hi pairs)`)
  const qHi = Number(q >> 32n)
  const qLo = Number(q & 0xffffffffn)
  for (let i = 0; i < count; i++) {
    const hi = words[2 * i + 1]
    if (hi < qHi || (hi === qHi && words[2 * i] < qLo)) continue
    throw new GpuJobError(`${what}: residue ${i} = ${(BigInt(hi) << 32n) | BigInt(words[2 * i])} is not below q = ${q}`)
  }
}
