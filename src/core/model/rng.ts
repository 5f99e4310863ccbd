/**
 * run.c's random number generator: xorshift* on a 64-bit state, bit for bit.
 * Source: karpathy/llama2.c run.c `random_u32` / `random_f32`.
 */
const MASK64 = (1n << 64n) - 1n
const MULTIPLIER = 0x2545f4914f6cdd1dn

/** The 64-bit generator state; mutate only through {@link randomU32} / {@link randomF32}. */
export interface RngState { state: bigint }

/**
 * A generator seeded as run.c seeds it: the seed is taken modulo 2^64 (so a negative
 * seed `-n` is 2^64 − n, as C's conversion of `atoi`'s result to unsigned long long).
 * A zero state would stay zero forever; run.c replaces seed 0 by the time, and so does
 * the CLI (see `resolveSeed`), so 0 is refused here.
 */
export function createRng (seed: bigint | number): RngState {
  const s = BigInt.asUintN(64, BigInt(seed))
  if (s === 0n) throw new RangeError('xorshift seed must be non-zero (run.c replaces 0 by the current time)')
  return { state: s }
}

/** The next 32 random bits. */
export function randomU32 (rng: RngState): number {
  let s = rng.state
  s ^= s >> 12n
  s ^= (s << 25n) & MASK64
  s ^= s >> 27n
  rng.state = s
  return Number(((s * MULTIPLIER) & MASK64) >> 32n)
}

/** A float32 in [0, 1) with 24 random bits (exactly representable). */
export function randomF32 (rng: RngState): number {
  return (randomU32(rng) >>> 8) / 16777216
}
