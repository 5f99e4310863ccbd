/**
 * The packed scheme's plaintext modulus: the smallest prime t ≡ 1 (mod 2N) above twice the
 * largest int8 dot product, so every result is read back exactly by centred decoding
 * (|y| < t/2). A prime ≡ 1 (mod 2N) is what SEAL calls batching parameters — the only kind
 * for which `createGaloisKeysSerializableWithSteps` makes Galois keys, so the user's SEAL
 * makes them with its own API.
 */
import { HeParamsError } from './errors.ts'
import { isPrime } from './params.ts'

/** The largest |y| of a dIn-wide int8 dot product, −128 included (the packed scheme is exact on −128). */
export function packedResultBound (dIn: number): number {
  return dIn * 128 * 128
}

/** Largest t the packed scheme takes: 2^31, so every t·coefficient product stays exact in float64 arithmetic. */
export const MAX_PACKED_PLAIN_MODULUS = 2 ** 31

/**
 * The smallest prime t ≡ 1 (mod 2N) with t > 2·dIn·128², e.g. 25,231,361 ≈ 2^24.6 for
 * d_in = 768 at N = 4096.
 * @throws {HeParamsError} when no such t stays below {@link MAX_PACKED_PLAIN_MODULUS}.
 */
export function packedPlainModulus (dIn: number, polyDegree: number): number {
  const m = 2 * polyDegree
  const need = 2 * packedResultBound(dIn) + 1
  for (let t = Math.ceil((need - 1) / m) * m + 1; t < MAX_PACKED_PLAIN_MODULUS; t += m) {
    if (t >= need && isPrime(t)) return t
  }
  throw new HeParamsError(`no prime plaintext modulus ≡ 1 (mod ${m}) below 2^31 holds a ${dIn}-wide dot product`)
}
