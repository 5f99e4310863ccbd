/**
 * The reference the HE benchmark compares against: the encrypted matvec done with SEAL
 * alone, as the pre-project probe did it (shared/probes/seal/q5_e2e.mjs) — same packing,
 * but SEAL's own multiply_plain/add for the accumulation, full ciphertexts downloaded
 * (no result trimming, no modulus switch) and SEAL's decryption. Kept so that every
 * benchmark run measures both, interleaved, on the same machine at the same moment.
 */
import { sealCall } from './errors.ts'
import { blockSplit, packInput, packWeights, unpackResults, type BlockSplit } from './packing.ts'
import { createContext } from './params.ts'
import type { MatvecPlan } from './plan.ts'
import { withScope, type Seal } from './seal.ts'
import { plaintextBytes, plaintextCoefficients } from './seal-bytes.ts'

/** A prepared SEAL-only matvec. */
export interface SealOnlyMatvec {
  /** Run one job; returns the result and the time and bytes of each side. */
  run: (x: Int8Array) => { y: Int32Array, userMs: number, minerMs: number, bytesUp: number, bytesDown: number }
  delete: () => void
}

/**
 * The probe's choice of split: the n_i minimising ciphertexts on the wire, counting an
 * uploaded (seeded) ciphertext as 1 and a downloaded (full) one as 2.
 */
export function probeSplit (dOut: number, dIn: number, polyDegree: number): BlockSplit {
  let best: BlockSplit | undefined
  for (let nI = 1; nI <= Math.min(dIn, polyDegree); nI++) {
    const s = blockSplit(dOut, dIn, polyDegree, nI)
    const cost = s.chunks + 2 * s.blocks
    if (best === undefined || cost < best.chunks + 2 * best.blocks || (cost === best.chunks + 2 * best.blocks && s.chunks * s.blocks < best.chunks * best.blocks)) best = s
  }
  return best as BlockSplit
}

/** Prepare the SEAL-only pipeline for `plan`'s ring and t, with the probe's split, and matrix `w`. */
export function prepareSealOnly (seal: Seal, plan: MatvecPlan, w: Int8Array): SealOnlyMatvec {
  const ctx = createContext(seal, plan.params)
  const s: BlockSplit = probeSplit(plan.dOut, plan.dIn, plan.split.polyDegree)
  const n = ctx.polyDegree
  const keygen = new seal.KeyGenerator(ctx.context)
  const sk = keygen.secretKey()
  const pk = keygen.createPublicKey()
  const enc = new seal.Encryptor(ctx.context, pk, sk)
  const dec = new seal.Decryptor(ctx.context, sk)
  const ev = ctx.evaluator
  const coeffs = new Uint32Array(n)
  const pid = ctx.context.firstParmsId()
  const pts = Array.from({ length: s.blocks }, (_, b) => Array.from({ length: s.chunks }, (_, c) => {
    if (!packWeights(s, w, b, c, ctx.plainModulus, coeffs)) return null
    const pt = new seal.Plaintext()
    pt.loadFromArray(ctx.context, plaintextBytes(coeffs))
    ev.plainTransformToNttInplace(pt, pid)
    return pt
  }))
  return {
    run (x) {
      return withScope(scope => sealCall('run the SEAL-only matvec', () => {
        const t0 = performance.now()
        const up: Uint8Array[] = []
        for (let c = 0; c < s.chunks; c++) {
          packInput(s, x, c, ctx.plainModulus, coeffs)
          const pt = scope.own(new seal.Plaintext())
          pt.loadFromArray(ctx.context, plaintextBytes(coeffs))
          const ser = scope.own(enc.encryptSymmetricSerializable(pt))
          up.push(ser.saveToArray(seal.ComprModeType.none) as Uint8Array)
        }
        const t1 = performance.now()
        const cts = up.map(bytes => {
          const ct = scope.own(new seal.Ciphertext())
          ct.loadFromArray(ctx.context, bytes)
          ev.cipherTransformToNttInplace(ct)
          return ct
        })
        const tmp = scope.own(new seal.Ciphertext())
        const down: Uint8Array[] = []
        for (let b = 0; b < s.blocks; b++) {
          const acc = scope.own(new seal.Ciphertext())
          let first = true
          for (let c = 0; c < s.chunks; c++) {
            const pt = pts[b][c]
            if (pt === null) continue
            if (first) { ev.multiplyPlain(cts[c], pt, acc); first = false } else { ev.multiplyPlain(cts[c], pt, tmp); ev.addInplace(acc, tmp) }
          }
          ev.cipherTransformFromNttInplace(acc)
          down.push(acc.saveToArray(seal.ComprModeType.none) as Uint8Array)
        }
        const t2 = performance.now()
        const y = new Int32Array(plan.dOut)
        for (let b = 0; b < s.blocks; b++) {
          const ct = scope.own(new seal.Ciphertext())
          ct.loadFromArray(ctx.context, down[b])
          const pt = scope.own(new seal.Plaintext())
          dec.decrypt(ct, pt)
          unpackResults(s, plaintextCoefficients(pt.saveToArray(seal.ComprModeType.none) as Uint8Array, n), b, ctx.plainModulus, y)
        }
        const t3 = performance.now()
        return { y, userMs: (t1 - t0) + (t3 - t2), minerMs: t2 - t1, bytesUp: up.reduce((a, u) => a + u.byteLength, 0), bytesDown: down.reduce((a, u) => a + u.byteLength, 0) }
      }))
    },
    delete () {
      for (const row of pts) for (const p of row) p?.delete()
      for (const o of [pid, enc, dec, pk, sk, keygen]) o.delete()
      ctx.delete()
    }
  }
}
