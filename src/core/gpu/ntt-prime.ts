/**
 * The prime SEAL picks for a one-prime coefficient modulus — `CoeffModulus.Create(N,
 * [bits])` takes the largest prime below 2^bits that is ≡ 1 (mod 2N) — so the self-test
 * and the benchmark run on today's parameters without loading SEAL. A test holds it
 * equal to SEAL's choice.
 */

/** Miller–Rabin bases that decide primality for every n < 3.3·10^24 (Sorenson & Webster). */
const WITNESSES = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n, 41n]

function powMod (b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n
  b %= m
  while (e > 0n) {
    if ((e & 1n) === 1n) r = (r * b) % m
    b = (b * b) % m
    e >>= 1n
  }
  return r
}

/** Deterministic primality for n < 2^81. */
export function isPrime (n: bigint): boolean {
  if (n < 2n) return false
  for (const p of WITNESSES) if (n % p === 0n) return n === p
  let d = n - 1n
  let s = 0
  while ((d & 1n) === 0n) { d >>= 1n; s++ }
  for (const a of WITNESSES) {
    let x = powMod(a, d, n)
    if (x === 1n || x === n - 1n) continue
    let composite = true
    for (let i = 1; i < s && composite; i++) {
      x = (x * x) % n
      if (x === n - 1n) composite = false
    }
    if (composite) return false
  }
  return true
}

/** The largest prime below 2^bits that is ≡ 1 (mod 2·polyDegree), as SEAL chooses it. */
export function nttPrime (bits: number, polyDegree: number): bigint {
  const step = 2n * BigInt(polyDegree)
  let p = ((1n << BigInt(bits)) / step) * step + 1n
  if (p >= 1n << BigInt(bits)) p -= step
  while (!isPrime(p)) p -= step
  return p
}
