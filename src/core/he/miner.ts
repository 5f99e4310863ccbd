/**
 * The miner's side of an encrypted matvec. A miner is built from the SEAL module alone:
 * it never holds a key — it cannot decrypt, and cannot even encrypt — and it learns
 * nothing from a job but sizes. Weights are public; they are encoded once per matrix as
 * NTT-form plaintexts and reused for every job.
 */
import { HeJobError, sealCall } from './errors.ts'
import { packWeights, resultPositions } from './packing.ts'
import { createContext, type HeContext } from './params.ts'
import type { MatvecPlan } from './plan.ts'
import { withScope, type Scope, type Seal } from './seal.ts'
import { parseCiphertext, plaintextBytes, seededBytes } from './seal-bytes.ts'
import { decodeInput, encodeResult, parmsFingerprint } from './wire.ts'

type Plaintext = InstanceType<Seal['Plaintext']>
type Ciphertext = InstanceType<Seal['Ciphertext']>

/** A matrix encoded for a plan: NTT plaintexts per (block, chunk), null for zero blocks. */
export interface PreparedMatrix {
  readonly plan: MatvecPlan
  /** The output blocks this miner holds: [first, end). A pool splits blocks across workers. */
  readonly blocks: readonly [number, number]
  /** Bytes of WebAssembly heap the encoded weights occupy. */
  readonly heapBytes: number
  /** Delete the encoded weights. */
  delete: () => void
}

/** Computes encrypted matvecs. */
export interface HeMiner {
  /**
   * Encode W (dOut, dIn) row-major int8 for `plan` — all output blocks, or only
   * blocks [first, end) of them.
   */
  prepare: (plan: MatvecPlan, w: Int8Array, blocks?: readonly [number, number]) => PreparedMatrix
  /**
   * One result wire object per output block the matrix holds, from one input wire
   * object per chunk.
   * @throws {HeWireError} for a malformed input; {HeJobError} for a wrong count.
   */
  compute: (matrix: PreparedMatrix, inputs: readonly Uint8Array[]) => Uint8Array[]
  /**
   * For noise measurements only: the SEAL ciphertexts of each block before the modulus
   * switch (null for an all-zero block). A user with the key can read their noise budget.
   */
  computeRaw: (matrix: PreparedMatrix, inputs: readonly Uint8Array[]) => Array<Uint8Array | null>
  /** Delete every SEAL object. */
  dispose: () => void
}

interface MatrixInternal extends PreparedMatrix {
  readonly ctx: HeContext
  readonly pts: Array<Array<Plaintext | null>>
}

/**
 * Load the inputs, move them to the NTT domain, and for each output block accumulate
 * Σ_c ct_c ⊙ W_bc; hand each block's ciphertext (back in coefficient form, or null when
 * the block of W is all zeros) to `done`.
 */
function macBlocks (seal: Seal, m: MatrixInternal, inputs: ReadonlyArray<{ c0: Uint32Array, seedBlob: Uint8Array }>, scope: Scope, done: (block: number, acc: Ciphertext | null) => void): void {
  const { ctx, plan } = m
  const s = plan.split
  const n = ctx.polyDegree
  const cts: Ciphertext[] = inputs.map(d => sealCall('load an input ciphertext', () => {
    const ct = scope.own(new seal.Ciphertext())
    ct.loadFromArray(ctx.context, seededBytes({ parmsId: ctx.parmsId, polyDegree: n, limbs: 1, c0: d.c0, seedBlob: d.seedBlob }))
    ctx.evaluator.cipherTransformToNttInplace(ct)
    return ct
  }))
  const tmp = scope.own(new seal.Ciphertext())
  const acc = scope.own(new seal.Ciphertext())
  const [first, end] = m.blocks
  for (let b = first; b < end; b++) {
    let empty = true
    sealCall('multiply-accumulate', () => {
      for (let c = 0; c < s.chunks; c++) {
        const pt = m.pts[b - first][c]
        if (pt === null) continue
        if (empty) {
          ctx.evaluator.multiplyPlain(cts[c], pt, acc)
          empty = false
        } else {
          ctx.evaluator.multiplyPlain(cts[c], pt, tmp)
          ctx.evaluator.addInplace(acc, tmp)
        }
      }
      if (!empty) ctx.evaluator.cipherTransformFromNttInplace(acc)
    })
    done(b, empty ? null : acc)
  }
}

/** Create a miner. It takes no key, because it has no use for one. */
export function createHeMiner (seal: Seal): HeMiner {
  const contexts = new Map<string, HeContext>()
  const matrices = new Set<MatrixInternal>()
  const get = (plan: MatvecPlan): HeContext => {
    const key = `${plan.params.preset.name}/t${plan.params.plainBits}`
    let ctx = contexts.get(key)
    if (ctx === undefined) {
      ctx = createContext(seal, plan.params)
      contexts.set(key, ctx)
    }
    return ctx
  }
  return {
    prepare (plan, w, range) {
      if (w.length !== plan.dOut * plan.dIn) throw new HeJobError(`matrix has ${w.length} weights, the plan expects ${plan.dOut}×${plan.dIn}`)
      const s = plan.split
      const [first, end] = range ?? [0, s.blocks]
      if (!Number.isInteger(first) || !Number.isInteger(end) || first < 0 || end > s.blocks || first > end) throw new HeJobError(`block range [${first}, ${end}) is outside [0, ${s.blocks})`)
      const ctx = get(plan)
      const coeffs = new Uint32Array(ctx.polyDegree)
      const pts: Array<Array<Plaintext | null>> = []
      let count = 0
      try {
        for (let b = first; b < end; b++) {
          const row: Array<Plaintext | null> = []
          pts.push(row)
          for (let c = 0; c < s.chunks; c++) {
            if (!packWeights(s, w, b, c, ctx.plainModulus, coeffs)) {
              row.push(null)
              continue
            }
            const bytes = plaintextBytes(coeffs)
            row.push(sealCall('encode weights', () => {
              const pt = new seal.Plaintext()
              try {
                pt.loadFromArray(ctx.context, bytes)
                const pid = ctx.context.firstParmsId()
                ctx.evaluator.plainTransformToNttInplace(pt, pid)
                pid.delete()
              } catch (err) {
                pt.delete()
                throw err
              }
              return pt
            }))
            count++
          }
        }
      } catch (err) {
        for (const row of pts) for (const p of row) p?.delete()
        throw err
      }
      const m: MatrixInternal = {
        plan,
        blocks: [first, end],
        ctx,
        pts,
        heapBytes: count * 8 * ctx.polyDegree * ctx.primes.length,
        delete () {
          for (const row of pts) for (const p of row) p?.delete()
          pts.length = 0
          matrices.delete(m)
        }
      }
      matrices.add(m)
      return m
    },

    compute (matrix, inputs) {
      const m = matrix as MatrixInternal
      if (!matrices.has(m)) throw new HeJobError('this matrix was not prepared by this miner, or was deleted')
      const { plan, ctx } = m
      const s = plan.split
      if (inputs.length !== s.chunks) throw new HeJobError(`${inputs.length} input ciphertexts, the plan has ${s.chunks} chunks`)
      const n = ctx.polyDegree
      const fingerprint = parmsFingerprint(ctx.parmsId)
      const expect = { polyDegree: n, fingerprint, prime: ctx.primes[0], primeBits: ctx.primeBits[0] }
      // Validate every input before SEAL sees any of them.
      const decoded = inputs.map(bytes => decodeInput(bytes, expect))
      const down = 2 ** plan.resultBits / ctx.primesDouble[0]
      const two32 = 4294967296
      const wrap = 2 ** plan.resultBits
      // c' = round(c · 2^b / q) mod 2^b, into (lo, hi) words
      const shrink = (src: Uint32Array, i: number, dst: Uint32Array, j: number): void => {
        let v = Math.round((src[2 * i + 1] * two32 + src[2 * i]) * down)
        if (v >= wrap) v -= wrap
        const hi = Math.floor(v / two32)
        dst[2 * j] = v - hi * two32
        dst[2 * j + 1] = hi
      }
      return withScope(scope => {
        const out: Uint8Array[] = []
        macBlocks(seal, m, decoded, scope, (b, acc) => {
          const pos = resultPositions(s, b)
          const c1 = new Uint32Array(2 * n)
          const c0 = new Uint32Array(2 * pos.length)
          // An all-zero block of W has no product: its result is 0, sent as the zero ciphertext.
          if (acc !== null) {
            const f = parseCiphertext(sealCall('finish a result', () => acc.saveToArray(seal.ComprModeType.none) as Uint8Array))
            for (let i = 0; i < n; i++) shrink(f.words, n + i, c1, i)
            pos.forEach((p, i) => { shrink(f.words, p, c0, i) })
          }
          out.push(encodeResult({ bits: plan.resultBits, rows: pos.length, stride: s.nI, c1, c0 }, n, fingerprint))
        })
        return out
      })
    },

    computeRaw (matrix, inputs) {
      const m = matrix as MatrixInternal
      if (!matrices.has(m)) throw new HeJobError('this matrix was not prepared by this miner, or was deleted')
      const { ctx } = m
      const expect = { polyDegree: ctx.polyDegree, fingerprint: parmsFingerprint(ctx.parmsId), prime: ctx.primes[0], primeBits: ctx.primeBits[0] }
      const decoded = inputs.map(bytes => decodeInput(bytes, expect))
      return withScope(scope => {
        const out: Array<Uint8Array | null> = []
        macBlocks(seal, m, decoded, scope, (_b, acc) => {
          out.push(acc === null ? null : acc.saveToArray(seal.ComprModeType.none) as Uint8Array)
        })
        return out
      })
    },

    dispose () {
      for (const m of [...matrices]) m.delete()
      for (const ctx of contexts.values()) ctx.delete()
      contexts.clear()
    }
  }
}
