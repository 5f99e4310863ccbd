/**
 * A small seeded PRNG (mulberry32): deterministic synthetic weights, test data and fuzz
 * frames — the same seed gives the same numbers on every runtime. Not for secrets (those
 * use crypto.getRandomValues).
 */

/** Uniform numbers in [0, 1) from `seed`. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
