/**
 * Measuring the packed scheme's noise — the exact phase, checked against the bound of
 * packed-noise.ts rather than assumed.
 *
 * A throwaway key pair (never used for real data) encrypts the job, a miner computes it,
 * and the ternary secret gives the exact phase c0 + c1·s mod q at every result coefficient:
 * v = t·phase/q − y, exact iff |v| < 1/2. Measured twice: on the tree roots before the
 * result switch (the HE noise alone) and on the switched results as the user rescales them
 * (everything the user's decryption sees).
 */
import { sealCall } from './errors.ts'
import { forEachOutput, treesOf } from './packed-layout.ts'
import { readPackedResult } from './packed-wire.ts'
import { encryptPacked, makePackedKeys, rescaleResult } from './packed-user.ts'
import { createHeMiner } from './miner.ts'
import { createContext } from './params.ts'
import { createZeroPool } from './zero-pool.ts'
import { packedInfo, type MatvecPlan } from './plan.ts'
import { withScope, type Seal } from './seal.ts'
import { parseCiphertext } from './seal-bytes.ts'
import { ternaryKey } from './user.ts'
import { parmsFingerprint } from './wire.ts'

/** Measured and predicted margins (bits; −1 − log2 max|v|). */
export interface PackedNoiseReport {
  /** Before the result switch. */
  readonly heMarginBits: number
  readonly predictedHeMarginBits: number
  /** What the user decrypts. */
  readonly marginBits: number
  readonly predictedMarginBits: number
  /** Every result decrypted exactly. */
  readonly exact: boolean
}

/** |v| at coefficient `pos` of (c0, c1) words mod q for the result y. */
function noiseAt (words: Uint32Array, n: number, plus: Int32Array, minus: Int32Array, q: bigint, t: bigint, pos: number, y: number, signed = false): number {
  // (c1·s)_pos = Σ_(i ∈ +) c1[pos − i] − Σ_(i ∈ −) c1[pos − i], negacyclic; each c1 split
  // into 27-bit halves so that the float sums stay exact.
  let lo = 0
  let hi = 0
  const add = (i: number, sign: number): void => {
    let j = pos - i
    let sg = sign
    if (j < 0) { j += n; sg = -sg }
    const w0 = words[2 * (n + j)]
    const w1 = words[2 * (n + j) + 1]
    const l27 = w0 % 134217728
    const h27 = Math.floor(w0 / 134217728) + w1 * 32
    lo += sg * l27
    hi += sg * h27
  }
  for (const i of plus) add(i, 1)
  for (const i of minus) add(i, -1)
  const c0 = (BigInt(words[2 * pos + 1]) << 32n) + BigInt(words[2 * pos])
  let phase = ((BigInt(hi) << 27n) + BigInt(lo) + c0) % q
  if (phase < 0n) phase += q
  const ym = ((BigInt(y) % t) + t) % t
  const qt = q * t
  let num = (t * phase - q * ym) % qt
  if (num < 0n) num += qt
  if (num > qt / 2n) num -= qt
  return signed ? Number(num) / Number(q) : Math.abs(Number(num) / Number(q))
}

/**
 * Encrypt `xs` (default: all −128) with throwaway keys, compute W·x with a fresh miner and
 * measure |v| at every result, before and after the switch.
 */
export function measurePackedNoise (seal: Seal, plan: MatvecPlan, w: Int8Array, xs?: readonly Int8Array[]): PackedNoiseReport {
  const info = packedInfo(plan)
  const L = info.layout
  const inputs = xs ?? Array.from({ length: plan.batch }, () => new Int8Array(plan.dIn).fill(-128))
  const ys = inputs.map(x => {
    const y = new Float64Array(plan.dOut)
    for (let r = 0; r < plan.dOut; r++) { let a = 0; for (let c = 0; c < plan.dIn; c++) a += w[r * plan.dIn + c] * x[c]; y[r] = a }
    return y
  })
  const ctx = createContext(seal, plan.params)
  const miner = createHeMiner(seal)
  try {
    return withScope(scope => sealCall('measure packed noise', () => {
      const keygen = scope.own(new seal.KeyGenerator(ctx.context))
      const sk = scope.own(keygen.secretKey())
      const pk = scope.own(keygen.createPublicKey())
      const enc = scope.own(new seal.Encryptor(ctx.context, pk, sk))
      const keys = makePackedKeys(seal, ctx, keygen, sk)
      scope.own(keys.decryptor)
      const { plus, minus } = ternaryKey(seal, ctx, sk)
      const n = ctx.polyDegree
      const q = ctx.primes[0]
      const t = BigInt(ctx.plainModulus)
      const up = encryptPacked(ctx, createZeroPool(ctx, enc), keys, plan, inputs)
      const matrix = miner.prepare(plan, w)
      const handle = miner.loadGaloisKeys(keys.galois, plan)
      let he = 0
      const vs: number[] = []
      miner.computeRaw(matrix, up, handle).forEach((root, k) => {
        if (root === null) return
        const part = treesOf(L, 0, L.blocks)[k]
        const words = parseCiphertext(root).words
        for (let b = part.first; b < part.end; b++) forEachOutput(L, b, (pos, vec, row) => { const v = noiseAt(words, n, plus, minus, q, t, pos, ys[vec][row], true); vs.push(v); he = Math.max(he, Math.abs(v)) })
      })
      ;(globalThis as { noiseSamples?: number[] }).noiseSamples = vs
      let total = 0
      const fingerprint = parmsFingerprint(ctx.parmsId)
      for (const bytes of miner.compute(matrix, up, handle)) {
        const r = readPackedResult(bytes, { polyDegree: n, fingerprint, c0Bits: info.widths.c0Bits, c1Bits: info.widths.c1Bits, layout: L })
        const { words, at } = rescaleResult(r, L, ctx.primesDouble[0])
        at.position.forEach((pos, j) => { total = Math.max(total, noiseAt(words, n, plus, minus, q, t, pos, ys[at.vector[j]][at.row[j]])) })
      }
      plus.fill(0)
      minus.fill(0)
      return {
        heMarginBits: -1 - Math.log2(he),
        predictedHeMarginBits: info.noise.heMarginBits,
        marginBits: -1 - Math.log2(total),
        predictedMarginBits: info.widths.marginBits,
        exact: total < 0.5
      }
    }))
  } finally {
    miner.dispose()
    ctx.delete()
  }
}
