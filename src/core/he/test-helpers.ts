/** Test helpers for the HE suites. */

/** Seeded int8 data: random, all ±127, all zero, or 5 % non-zero. */
export function randomInt8 (n: number, rand: () => number, kind: 'random' | 'extreme' | 'zero' | 'sparse' = 'random'): Int8Array {
  const a = new Int8Array(n)
  for (let i = 0; i < n; i++) {
    if (kind === 'zero') a[i] = 0
    else if (kind === 'extreme') a[i] = rand() < 0.5 ? -127 : 127
    else if (kind === 'sparse') a[i] = rand() < 0.05 ? Math.floor(rand() * 255) - 127 : 0
    else a[i] = Math.floor(rand() * 255) - 127
  }
  return a
}
