/**
 * Measuring the noise a plan leaves — checked with SEAL, not assumed.
 *
 * A throwaway key pair (never used for real data) encrypts a worst-case input, a miner
 * computes the worst-case matrix, and SEAL reports the invariant noise budget of every
 * result block before the modulus switch. Decryption of the switched result is exact when
 * that budget is ≥ 1 bit (noise < q/(4t)) and the switch's own rounding stays below
 * q/(8t), which `resultBits` guarantees; we demand {@link MIN_NOISE_BUDGET_BITS}.
 */
import { sealCall } from './errors.ts'
import { createHeMiner } from './miner.ts'
import { createContext } from './params.ts'
import type { MatvecPlan } from './plan.ts'
import { withScope, type Seal } from './seal.ts'
import { packInput } from './packing.ts'
import { parseSeeded, plaintextBytes } from './seal-bytes.ts'
import { encodeInput, parmsFingerprint } from './wire.ts'

/** Noise budget (bits) a plan must keep after the multiply-accumulate: 1 bit is the bound, +1 is margin. */
export const MIN_NOISE_BUDGET_BITS = 2

/** Worst-case data: every weight and input at the int8 extreme, mixed signs. */
function worstCase (plan: MatvecPlan): { w: Int8Array, x: Int8Array } {
  const w = new Int8Array(plan.dOut * plan.dIn)
  for (let i = 0; i < w.length; i++) w[i] = (i * 7) % 3 === 0 ? -127 : 127
  const x = new Int8Array(plan.dIn)
  for (let i = 0; i < x.length; i++) x[i] = i % 2 === 0 ? 127 : -127
  return { w, x }
}

/**
 * The smallest noise budget (bits) over the result blocks of `plan` on worst-case data,
 * as SEAL measures it.
 */
export function measureNoiseBudget (seal: Seal, plan: MatvecPlan): number {
  const { w, x } = worstCase(plan)
  const ctx = createContext(seal, plan.params)
  const miner = createHeMiner(seal)
  try {
    return withScope(scope => sealCall('measure noise', () => {
      const keygen = scope.own(new seal.KeyGenerator(ctx.context))
      const sk = scope.own(keygen.secretKey())
      const pk = scope.own(keygen.createPublicKey())
      const enc = scope.own(new seal.Encryptor(ctx.context, pk, sk))
      const dec = scope.own(new seal.Decryptor(ctx.context, sk))
      const coeffs = new Uint32Array(ctx.polyDegree)
      const inputs: Uint8Array[] = []
      for (let c = 0; c < plan.split.chunks; c++) {
        packInput(plan.split, x, c, ctx.plainModulus, coeffs)
        const pt = scope.own(new seal.Plaintext())
        pt.loadFromArray(ctx.context, plaintextBytes(coeffs))
        const ser = scope.own(enc.encryptSymmetricSerializable(pt))
        const f = parseSeeded(ser.saveToArray(seal.ComprModeType.none) as Uint8Array)
        inputs.push(encodeInput(f, ctx.polyDegree, ctx.primeBits[0], parmsFingerprint(ctx.parmsId)))
      }
      const matrix = miner.prepare(plan, w)
      let min = Infinity
      for (const raw of miner.computeRaw(matrix, inputs)) {
        if (raw === null) continue
        const ct = scope.own(new seal.Ciphertext())
        ct.loadFromArray(ctx.context, raw)
        min = Math.min(min, dec.invariantNoiseBudget(ct))
      }
      matrix.delete()
      return min
    }))
  } finally {
    miner.dispose()
    ctx.delete()
  }
}
