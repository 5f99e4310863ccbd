/**
 * The miner's side of the coefficient scheme (packing.ts): W's blocks encoded once as
 * NTT-form plaintexts in a kernel instance of the matrix's own, and per job the inputs
 * loaded (SEAL expands each seed and applies the NTT), the multiply-accumulate — in the
 * WebAssembly kernel, or on an engine holding the same dense weights (mac-engine.ts) —
 * and the results back in coefficient form, rounded to the plan's result width.
 * miner.ts is the facade that dispatches to this and to packed-miner.ts.
 */
import { HeJobError, sealCall } from './errors.ts'
import type { LoadedMac, MacWeights } from './mac-engine.ts'
import { packWeights, resultPositions } from './packing.ts'
import type { HeContext } from './params.ts'
import type { MatvecPlan } from './plan.ts'
import { withScope, type Scope, type Seal } from './seal.ts'
import { ciphertextBytes, CT_DATA_OFFSET, parseCiphertext, plaintextBytes, PT_DATA_OFFSET, seededBytes } from './seal-bytes.ts'
import { barrett, createMacKernel, foldInterval, type MacKernel } from './kernel/mac-kernel.ts'
import { decodeInput, encodeResult, parmsFingerprint } from './wire.ts'

type Ciphertext = InstanceType<Seal['Ciphertext']>

/** A coefficient plan's matrix, encoded in a kernel instance of its own. */
export interface CoeffMatrix {
  readonly plan: MatvecPlan
  /** The output blocks held: [first, end). */
  readonly blocks: readonly [number, number]
  readonly heapBytes: number
  delete: () => void
  readonly ctx: HeContext
  readonly kernel: MacKernel
  /** Byte offset of W's NTT coefficients per (block − first, chunk), −1 for an all-zero block. */
  readonly wOff: Int32Array
  /** Offsets of the input (batch × chunks × 2N u64), accumulator (2N × 128 bit) and output (2N u64) regions. */
  readonly xOff: number
  readonly accOff: number
  readonly outOff: number
  readonly barrett: { readonly mu: bigint, readonly shift: bigint, readonly fold: number }
}

/** Encode blocks [first, end) of W (dOut, dIn) row-major int8 for a coefficient plan. */
export function prepareCoeff (seal: Seal, ctx: HeContext, plan: MatvecPlan, w: Int8Array, [first, end]: readonly [number, number], onDelete: () => void): CoeffMatrix {
  const s = plan.split
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
  const accOff = xOff + plan.batch * s.chunks * 2 * polyBytes
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
  const m: CoeffMatrix = {
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
    delete: onDelete
  }
  return m
}

/** Load the inputs (batch × chunks, vector-major) into the kernel's X region, in NTT form (SEAL expands each seed). */
function loadInputs (seal: Seal, m: CoeffMatrix, inputs: ReadonlyArray<{ c0: Uint32Array, seedBlob: Uint8Array }>): void {
  const { ctx, kernel } = m
  const n = ctx.polyDegree
  const polyBytes = 8 * n
  inputs.forEach((d, c) => {
    const bytes = withScope(inner => sealCall('load an input ciphertext', () => {
      const ct = inner.own(new seal.Ciphertext())
      ct.loadFromArray(ctx.context, seededBytes({ parmsId: ctx.parmsId, polyDegree: n, limbs: 1, c0: d.c0, seedBlob: d.seedBlob }))
      ctx.evaluator.cipherTransformToNttInplace(ct)
      return ct.saveToArray(seal.ComprModeType.none) as Uint8Array
    }))
    new Uint8Array(kernel.memory.buffer, m.xOff + c * 2 * polyBytes, 2 * polyBytes).set(bytes.subarray(CT_DATA_OFFSET, CT_DATA_OFFSET + 2 * polyBytes))
  })
}

/** The MAC step: the reduced (acc0, acc1) words of (block, vector), 2 × N residues — or null for an all-zero block of W. */
type BlockWords = (block: number, vector: number) => Uint32Array | null

/** Whether block b of W (within the prepared range) has no non-zero chunk. */
function zeroBlock (m: CoeffMatrix, b: number): boolean {
  const c0 = (b - m.blocks[0]) * m.plan.split.chunks
  for (let c = 0; c < m.plan.split.chunks; c++) if (m.wOff[c0 + c] >= 0) return false
  return true
}

/** The MAC in the WebAssembly kernel, over the inputs loadInputs placed (the default, and the reference). */
function kernelWords (m: CoeffMatrix): BlockWords {
  const { ctx, plan, kernel } = m
  const s = plan.split
  const n = ctx.polyDegree
  const polyBytes = 8 * n
  const q = ctx.primes[0]
  const { mu, shift, fold } = m.barrett
  return (b, v) => {
    new Uint8Array(kernel.memory.buffer, m.accOff, 4 * polyBytes).fill(0)
    let count = 0
    for (let c = 0; c < s.chunks; c++) {
      const w = m.wOff[(b - m.blocks[0]) * s.chunks + c]
      if (w < 0) continue
      const x = m.xOff + (v * s.chunks + c) * 2 * polyBytes
      kernel.mac2(x, x + polyBytes, w, m.accOff, m.accOff + 2 * polyBytes, n)
      if (++count % fold === 0) kernel.reduce(m.accOff, m.accOff, 2 * n, q, mu, shift, 16)
    }
    if (count === 0) return null
    kernel.reduce(m.accOff, m.outOff, 2 * n, q, mu, shift, 8)
    return new Uint32Array(kernel.memory.buffer.slice(m.outOff, m.outOff + 2 * polyBytes))
  }
}

/**
 * The MAC on an engine: one engine MAC per input vector, over the X region loadInputs
 * filled (copied out before the await). The engine computes every prepared block; the
 * range's are read from its result.
 */
async function engineWords (m: CoeffMatrix, mac: LoadedMac): Promise<BlockWords> {
  const { plan, kernel } = m
  const n = m.ctx.polyDegree
  const words = plan.split.chunks * 4 * n
  const out: Uint32Array[] = []
  for (let v = 0; v < plan.batch; v++) {
    const x = new Uint32Array(kernel.memory.buffer.slice(m.xOff + v * words * 4, m.xOff + (v + 1) * words * 4))
    const y = await mac.mac(x)
    if (y.length !== (m.blocks[1] - m.blocks[0]) * 4 * n) throw new HeJobError(`the MAC engine returned ${y.length} words, the matrix has ${m.blocks[1] - m.blocks[0]} blocks × 2 × ${n} residues`)
    out.push(y)
  }
  return (b, v) => zeroBlock(m, b) ? null : out[v].subarray((b - m.blocks[0]) * 4 * n, (b - m.blocks[0] + 1) * 4 * n)
}

/**
 * For each output block of `range` and each vector, the accumulated Σ_c ct_c ⊙ W_bc from
 * `words`, back in coefficient form (SEAL's inverse NTT), handed to `done` (null for an
 * all-zero block of W).
 */
function macBlocks (seal: Seal, m: CoeffMatrix, range: readonly [number, number], scope: Scope, words: BlockWords, done: (block: number, acc: Ciphertext | null) => void): void {
  const { ctx, plan } = m
  const n = ctx.polyDegree
  const acc = scope.own(new seal.Ciphertext())
  for (let b = range[0]; b < range[1]; b++) for (let v = 0; v < plan.batch; v++) {
    const w = words(b, v)
    if (w === null) {
      done(b, null)
      continue
    }
    sealCall('finish a result', () => {
      acc.loadFromArray(ctx.context, ciphertextBytes({ parmsId: ctx.parmsId, isNtt: true, size: 2, polyDegree: n, limbs: 1, words: w }))
      ctx.evaluator.cipherTransformFromNttInplace(acc)
    })
    done(b, acc)
  }
}

/** A coefficient job's validated inputs and range. */
interface CoeffJob {
  readonly decoded: ReadonlyArray<{ c0: Uint32Array, seedBlob: Uint8Array }>
  readonly range: readonly [number, number]
}

/** Validate a coefficient job before SEAL sees any of it. */
function coeffJob (m: CoeffMatrix, inputs: readonly Uint8Array[], blocks: readonly [number, number] | undefined): CoeffJob {
  const { plan, ctx } = m
  const s = plan.split
  const range = blocks ?? m.blocks
  if (!(m.blocks[0] <= range[0] && range[0] <= range[1] && range[1] <= m.blocks[1])) throw new HeJobError(`block range [${range[0]}, ${range[1]}) is outside the prepared [${m.blocks[0]}, ${m.blocks[1]})`)
  if (inputs.length !== plan.batch * s.chunks) throw new HeJobError(`${inputs.length} input ciphertexts, the plan has ${plan.batch > 1 ? `${plan.batch} vectors × ` : ''}${s.chunks} chunks`)
  const expect = { polyDegree: ctx.polyDegree, fingerprint: parmsFingerprint(ctx.parmsId), prime: ctx.primes[0], primeBits: ctx.primeBits[0] }
  return { decoded: inputs.map(bytes => decodeInput(bytes, expect)), range }
}

/** The result wire objects of a coefficient job's blocks (block-major, then vector), from the MAC step's words. */
function coeffResults (seal: Seal, m: CoeffMatrix, range: readonly [number, number], words: BlockWords): Uint8Array[] {
  const { plan, ctx } = m
  const s = plan.split
  const n = ctx.polyDegree
  const fingerprint = parmsFingerprint(ctx.parmsId)
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
    macBlocks(seal, m, range, scope, words, (b, acc) => {
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
}

/** A coefficient matrix's dense weights for an engine (zeros where the miner skips a block of W). */
export function coeffMacWeights (m: CoeffMatrix): MacWeights {
  const s = m.plan.split
  const n = m.ctx.polyDegree
  const blocks = m.blocks[1] - m.blocks[0]
  const weights = new Uint32Array(blocks * s.chunks * 2 * n)
  m.wOff.forEach((off, i) => { if (off >= 0) weights.set(new Uint32Array(m.kernel.memory.buffer, off, 2 * n), i * 2 * n) })
  return { layout: { q: m.ctx.primes[0], polyDegree: n, chunks: s.chunks, blocks }, weights, macsPerJob: m.plan.batch }
}

/** The result wire objects of a coefficient job (blocks of `blocks`, default all prepared; block-major, then vector), on the kernel. */
export function computeCoeff (seal: Seal, m: CoeffMatrix, inputs: readonly Uint8Array[], blocks?: readonly [number, number]): Uint8Array[] {
  const job = coeffJob(m, inputs, blocks)
  loadInputs(seal, m, job.decoded)
  return coeffResults(seal, m, job.range, kernelWords(m))
}

/** {@link computeCoeff} with the MAC on an engine holding {@link coeffMacWeights}: the same bytes. */
export async function computeCoeffWith (seal: Seal, m: CoeffMatrix, inputs: readonly Uint8Array[], mac: LoadedMac, blocks?: readonly [number, number]): Promise<Uint8Array[]> {
  const job = coeffJob(m, inputs, blocks)
  loadInputs(seal, m, job.decoded)
  // Copied out of kernel memory before the await; nothing below reads what another job may overwrite.
  const words = await engineWords(m, mac)
  return coeffResults(seal, m, job.range, words)
}

/** For noise measurements: each block's SEAL ciphertext before the modulus switch (null for an all-zero block). */
export function computeCoeffRaw (seal: Seal, m: CoeffMatrix, inputs: readonly Uint8Array[]): Array<Uint8Array | null> {
  const { ctx } = m
  const expect = { polyDegree: ctx.polyDegree, fingerprint: parmsFingerprint(ctx.parmsId), prime: ctx.primes[0], primeBits: ctx.primeBits[0] }
  loadInputs(seal, m, inputs.map(bytes => decodeInput(bytes, expect)))
  return withScope(scope => {
    const out: Array<Uint8Array | null> = []
    macBlocks(seal, m, m.blocks, scope, kernelWords(m), (_b, acc) => {
      out.push(acc === null ? null : acc.saveToArray(seal.ComprModeType.none) as Uint8Array)
    })
    return out
  })
}
