/**
 * Checking miners' results: Freivalds' test of y = W·x with a secret random vector, exact
 * modulo two primes below 2^26, O(d) per result (freivalds.ts).
 *
 * @example
 * ```ts
 * const key = freivaldsKey(w, rows, cols)      // once per matrix; the secret r stays here
 * if (!freivaldsCheck(key, x, y)) throw new VerificationError(job, miner)
 * ```
 */
export * from './freivalds.ts'
