/**
 * The miner's side of an encrypted matvec. A miner is built from the SEAL module alone:
 * it never holds a key — it cannot decrypt, and cannot even encrypt — and it learns
 * nothing from a job but sizes. Weights are public; they are encoded once per matrix as
 * NTT-form plaintexts and reused for every job.
 *
 * SEAL does what needs its internals — expanding the input's seed, the forward and
 * inverse NTTs; the multiply-accumulate over NTT coefficients, where the time goes, runs in
 * our WebAssembly kernel (kernel/mac-kernel.ts), about 4× faster than SEAL's
 * multiply_plain + add in WebAssembly, and exact.
 */
import { HeJobError, sealCall } from './errors.ts'
import { packWeights, resultPositions } from './packing.ts'
import { createContext, type HeContext } from './params.ts'
import type { MatvecPlan } from './plan.ts'
import { withScope, type Scope, type Seal } from './seal.ts'
import { ciphertextBytes, CT_DATA_OFFSET, parseCiphertext, plaintextBytes, PT_DATA_OFFSET, seededBytes } from './seal-bytes.ts'
import { barrett, createMacKernel, foldInterval, type MacKernel } from './kernel/mac-kernel.ts'
import { decodeInput, encodeResult, parmsFingerprint } from './wire.ts'

type Ciphertext = InstanceType<Seal['Ciphertext']>

/** A matrix encoded for a plan: NTT plaintexts per (block, chunk), null for zero blocks. */
export interface PreparedMatrix {
  readonly plan: MatvecPlan
  /** The output blocks this miner holds: [first, end). A pool splits blocks across workers. */
  readonly blocks: readonly [number, number]
  /** Bytes of kernel memory the matrix occupies (encoded weights and work space). */
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
  readonly kernel: MacKernel
  /** Byte offset of W's NTT coefficients per (block − first, chunk), −1 for an all-zero block. */
  readonly wOff: Int32Array
  /** Offsets of the input (chunks × 2N u64), accumulator (2N × 128 bit) and output (2N u64) regions. */
  readonly xOff: number
  readonly accOff: number
  readonly outOff: number
  readonly barrett: { readonly mu: bigint, readonly shift: bigint, readonly fold: number }
}

/**
 * Load the inputs, move them to the NTT domain, and for each output block accumulate
 * Σ_c ct_c ⊙ W_bc; hand each block's ciphertext (back in coefficient form, or null when
 * the block of W is all zeros) to `done`.
 */
function macBlocks (seal: Seal, m: MatrixInternal, inputs: ReadonlyArray<{ c0: Uint32Array, seedBlob: Uint8Array }>, scope: Scope, done: (block: number, acc: Ciphertext | null) => void): void {
  const { ctx, plan, kernel } = m
  const s = plan.split
  const n = ctx.polyDegree
  const polyBytes = 8 * n
  // Inputs: SEAL expands each seed and applies the NTT; the coefficients go to the kernel.
  inputs.forEach((d, c) => {
    const bytes = withScope(inner => sealCall('load an input ciphertext', () => {
      const ct = inner.own(new seal.Ciphertext())
      ct.loadFromArray(ctx.context, seededBytes({ parmsId: ctx.parmsId, polyDegree: n, limbs: 1, c0: d.c0, seedBlob: d.seedBlob }))
      ctx.evaluator.cipherTransformToNttInplace(ct)
      return ct.saveToArray(seal.ComprModeType.none) as Uint8Array
    }))
    new Uint8Array(kernel.memory.buffer, m.xOff + c * 2 * polyBytes, 2 * polyBytes).set(bytes.subarray(CT_DATA_OFFSET, CT_DATA_OFFSET + 2 * polyBytes))
  })
  const q = ctx.primes[0]
  const { mu, shift, fold } = m.barrett
  const [first, end] = m.blocks
  const acc = scope.own(new seal.Ciphertext())
  for (let b = first; b < end; b++) {
    new Uint8Array(kernel.memory.buffer, m.accOff, 4 * polyBytes).fill(0)
    let count = 0
    for (let c = 0; c < s.chunks; c++) {
      const w = m.wOff[(b - first) * s.chunks + c]
      if (w < 0) continue
      const x = m.xOff + c * 2 * polyBytes
      kernel.mac2(x, x + polyBytes, w, m.accOff, m.accOff + 2 * polyBytes, n)
      if (++count % fold === 0) kernel.reduce(m.accOff, m.accOff, 2 * n, q, mu, shift, 16)
    }
    if (count === 0) {
      done(b, null)
      continue
    }
    kernel.reduce(m.accOff, m.outOff, 2 * n, q, mu, shift, 8)
    const words = new Uint32Array(kernel.memory.buffer.slice(m.outOff, m.outOff + 2 * polyBytes))
    sealCall('finish a result', () => {
      acc.loadFromArray(ctx.context, ciphertextBytes({ parmsId: ctx.parmsId, isNtt: true, size: 2, polyDegree: n, limbs: 1, words }))
      ctx.evaluator.cipherTransformFromNttInplace(acc)
    })
    done(b, acc)
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
      const n = ctx.polyDegree
      const polyBytes = 8 * n
      const coeffs = new Uint32Array(n)
      // Which blocks of W are non-zero decides the layout: W first, then X, acc, out.
      const wOff = new Int32Array((end - first) * s.chunks).fill(-1)
      let offset = 0
      const nonzero: Array<[number, number]> = []
      for (let b = first; b < end; b++) {
        for (let c = 0; c < s.chunks; c++) {
          if (!packWeights(s, w, b, c, ctx.plainModulus, coeffs)) continue
          wOff[(b - first) * s.chunks + c] = offset
          nonzero.push([b, c])
          offset += polyBytes
        }
      }
      const xOff = offset
      const accOff = xOff + s.chunks * 2 * polyBytes
      const outOff = accOff + 4 * polyBytes
      const kernel = createMacKernel()
      kernel.ensure(outOff + 2 * polyBytes)
      for (const [b, c] of nonzero) {
        packWeights(s, w, b, c, ctx.plainModulus, coeffs)
        const ntt = withScope(scope => sealCall('encode weights', () => {
          const pt = scope.own(new seal.Plaintext())
          pt.loadFromArray(ctx.context, plaintextBytes(coeffs))
          const pid = scope.own(ctx.context.firstParmsId())
          ctx.evaluator.plainTransformToNttInplace(pt, pid)
          return pt.saveToArray(seal.ComprModeType.none) as Uint8Array
        }))
        new Uint8Array(kernel.memory.buffer, wOff[(b - first) * s.chunks + c], polyBytes).set(ntt.subarray(PT_DATA_OFFSET, PT_DATA_OFFSET + polyBytes))
      }
      const q = ctx.primes[0]
      const m: MatrixInternal = {
        plan,
        blocks: [first, end],
        ctx,
        kernel,
        wOff,
        xOff,
        accOff,
        outOff,
        barrett: { ...barrett(q), fold: foldInterval(q) },
        heapBytes: outOff + 2 * polyBytes,
        delete () {
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
