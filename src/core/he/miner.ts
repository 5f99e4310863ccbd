/**
 * The miner's side of an encrypted matvec. A miner is built from the SEAL module alone:
 * it never holds a key — it cannot decrypt, and cannot even encrypt — and it learns
 * nothing from a job but sizes. Weights are public; they are encoded once per matrix as
 * NTT-form plaintexts and reused for every job.
 *
 * SEAL does what needs its internals — expanding the input's seed, the forward and
 * inverse NTTs; the multiply-accumulate over NTT coefficients, where the time goes, runs in
 * our WebAssembly kernel (kernel/mac-kernel.ts), about 4× faster than SEAL's
 * multiply_plain + add in WebAssembly, and exact — or, through `computeWith`, on an
 * engine that holds the matrix's dense weights (mac-engine.ts: a GPU), with the same
 * result bytes; the kernel stays the default, the reference and the fallback.
 *
 * Packed plans (packed-miner.ts) also need the user's Galois keys — public key material
 * that lets the miner apply automorphisms and nothing else; it still cannot decrypt.
 *
 * Block ranges: a worker pool may prepare and compute blocks [first, end) of a job on each
 * worker. A coefficient range returns its blocks' results (batch: block-major, then vector);
 * a packed range returns one result per tree it touches, packed only over its own blocks —
 * the user's `decryptBatch` takes the union of every range's results, in any order.
 */
import { HeJobError, HeWireError, sealCall } from './errors.ts'
import { decodeGaloisKeys, sealKeyBytes } from './galois-keys.ts'
import { packWeights, resultPositions } from './packing.ts'
import { computePackedRoots, computePackedRootsWith, encodePackedParts, packedMacWeights, preparePacked, type LoadedKeys, type PackedMatrix } from './packed-miner.ts'
import type { LoadedMac, MacWeights } from './mac-engine.ts'
import { createContext, paramsKey, type HeContext } from './params.ts'
import type { MatvecPlan } from './plan.ts'
import { withScope, type Scope, type Seal } from './seal.ts'
import { ciphertextBytes, CT_DATA_OFFSET, parseCiphertext, plaintextBytes, PT_DATA_OFFSET, seededBytes } from './seal-bytes.ts'
import { barrett, createMacKernel, foldInterval, type MacKernel } from './kernel/mac-kernel.ts'
import { decodeInput, encodeResult, parmsFingerprint } from './wire.ts'

type Ciphertext = InstanceType<Seal['Ciphertext']>

/** A loaded Galois key set of one user session. */
export interface GaloisKeyHandle {
  /** The key set's id (inputs encrypted for it carry the same). */
  readonly id: bigint
  /** The parameters' fingerprint. */
  readonly fingerprint: bigint
  /** Bytes of SEAL heap the expanded keys take (keys × 2 × 2 × 8·N). */
  readonly heapBytes: number
  /** Free the keys; computing with the handle afterwards is refused. */
  delete: () => void
}

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
   * The result wire objects of the matrix's blocks (or of `blocks`, a part of them), from
   * the job's input wire objects. Coefficient plans: one per block and vector, block-major;
   * packed plans: one per tree the range touches (`keys` required).
   * @throws {HeWireError} for a malformed input or inputs for other keys; {HeJobError} for a
   * wrong count, missing or foreign keys, or a range outside the prepared one.
   */
  compute: (matrix: PreparedMatrix, inputs: readonly Uint8Array[], keys?: GaloisKeyHandle, blocks?: readonly [number, number]) => Uint8Array[]
  /**
   * For noise measurements only: the SEAL ciphertexts before the modulus switch — per block
   * (coefficient; null for an all-zero block) or per tree part (packed; null when all zero).
   */
  computeRaw: (matrix: PreparedMatrix, inputs: readonly Uint8Array[], keys?: GaloisKeyHandle) => Array<Uint8Array | null>
  /**
   * `compute`, with the multiply-accumulate on an engine holding this matrix's
   * {@link HeMiner.macWeights} (a GPU): the same result bytes, bit for bit. SEAL's steps
   * before and after the engine's awaited MACs run synchronously.
   * @throws what `compute` throws; the engine's own errors (a lost GPU) unchanged, so the
   * caller can compute the job again with `compute`.
   */
  computeWith: (matrix: PreparedMatrix, inputs: readonly Uint8Array[], mac: LoadedMac, keys?: GaloisKeyHandle, blocks?: readonly [number, number]) => Promise<Uint8Array[]>
  /** The matrix's MAC layout and dense NTT weights, for an engine to load (mac-engine.ts). */
  macWeights: (matrix: PreparedMatrix) => MacWeights
  /**
   * Validate and load a user's Galois key set (galois-keys.ts) for `plan`'s parameters, or
   * — without a plan — for the parameters of a packed matrix this miner prepared.
   * @throws {HeWireError} for keys that are truncated, oversized, for other parameters or
   * with a wrong element set; the miner is unchanged.
   */
  loadGaloisKeys: (bytes: Uint8Array, plan?: MatvecPlan) => GaloisKeyHandle
  /** Delete every SEAL object. */
  dispose: () => void
}

interface MatrixInternal extends PreparedMatrix {
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

/** Load the inputs (batch × chunks, vector-major) into the kernel's X region, in NTT form (SEAL expands each seed). */
function loadInputs (seal: Seal, m: MatrixInternal, inputs: ReadonlyArray<{ c0: Uint32Array, seedBlob: Uint8Array }>): void {
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
function zeroBlock (m: MatrixInternal, b: number): boolean {
  const c0 = (b - m.blocks[0]) * m.plan.split.chunks
  for (let c = 0; c < m.plan.split.chunks; c++) if (m.wOff[c0 + c] >= 0) return false
  return true
}

/** The MAC in the WebAssembly kernel, over the inputs loadInputs placed (the default, and the reference). */
function kernelWords (m: MatrixInternal): BlockWords {
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
async function engineWords (m: MatrixInternal, mac: LoadedMac): Promise<BlockWords> {
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
function macBlocks (seal: Seal, m: MatrixInternal, range: readonly [number, number], scope: Scope, words: BlockWords, done: (block: number, acc: Ciphertext | null) => void): void {
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
function coeffJob (m: MatrixInternal, inputs: readonly Uint8Array[], blocks: readonly [number, number] | undefined): CoeffJob {
  const { plan, ctx } = m
  const s = plan.split
  const range = blocks ?? m.blocks
  if (!(m.blocks[0] <= range[0] && range[0] <= range[1] && range[1] <= m.blocks[1])) throw new HeJobError(`block range [${range[0]}, ${range[1]}) is outside the prepared [${m.blocks[0]}, ${m.blocks[1]})`)
  if (inputs.length !== plan.batch * s.chunks) throw new HeJobError(`${inputs.length} input ciphertexts, the plan has ${plan.batch > 1 ? `${plan.batch} vectors × ` : ''}${s.chunks} chunks`)
  const expect = { polyDegree: ctx.polyDegree, fingerprint: parmsFingerprint(ctx.parmsId), prime: ctx.primes[0], primeBits: ctx.primeBits[0] }
  return { decoded: inputs.map(bytes => decodeInput(bytes, expect)), range }
}

/** The result wire objects of a coefficient job's blocks (block-major, then vector), from the MAC step's words. */
function coeffResults (seal: Seal, m: MatrixInternal, range: readonly [number, number], words: BlockWords): Uint8Array[] {
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
function coeffMacWeights (m: MatrixInternal): MacWeights {
  const s = m.plan.split
  const n = m.ctx.polyDegree
  const blocks = m.blocks[1] - m.blocks[0]
  const weights = new Uint32Array(blocks * s.chunks * 2 * n)
  m.wOff.forEach((off, i) => { if (off >= 0) weights.set(new Uint32Array(m.kernel.memory.buffer, off, 2 * n), i * 2 * n) })
  return { layout: { q: m.ctx.primes[0], polyDegree: n, chunks: s.chunks, blocks }, weights, macsPerJob: m.plan.batch }
}

/** Check a block range against [0, blocks). */
function checkRange (range: readonly [number, number], blocks: number): void {
  const [first, end] = range
  if (!Number.isInteger(first) || !Number.isInteger(end) || first < 0 || end > blocks || first > end) throw new HeJobError(`block range [${first}, ${end}) is outside [0, ${blocks})`)
}

/** Create a miner. It takes no key, because it has no secret use for one. */
export function createHeMiner (seal: Seal): HeMiner {
  const contexts = new Map<string, HeContext>()
  const matrices = new Set<MatrixInternal>()
  const packed = new Map<PreparedMatrix, PackedMatrix>()
  const keySets = new Map<GaloisKeyHandle, LoadedKeys>()
  const monomials = new Map<string, InstanceType<Seal['Plaintext']>>()
  const get = (plan: MatvecPlan): HeContext => {
    const key = paramsKey(plan.params)
    let ctx = contexts.get(key)
    if (ctx === undefined) {
      ctx = createContext(seal, plan.params)
      contexts.set(key, ctx)
    }
    return ctx
  }
  // X^h as a coefficient plaintext, per ring (the PackRLWEs shifts).
  const monomial = (ctx: HeContext) => (h: number): InstanceType<Seal['Plaintext']> => {
    const key = `${ctx.key}/${h}`
    let pt = monomials.get(key)
    if (pt === undefined) {
      const coeffs = new Uint32Array(h + 1)
      coeffs[h] = 1
      const made = sealCall('make a monomial', () => { const p = new seal.Plaintext(); p.loadFromArray(ctx.context, plaintextBytes(coeffs)); return p })
      monomials.set(key, made)
      pt = made
    }
    return pt
  }
  const keysFor = (handle: GaloisKeyHandle | undefined): LoadedKeys => {
    if (handle === undefined) throw new HeJobError('a packed plan needs the session\'s Galois keys: load them with loadGaloisKeys')
    const k = keySets.get(handle)
    if (k === undefined) throw new HeJobError('these Galois keys were not loaded by this miner, or were deleted')
    return k
  }
  const coeffOf = (matrix: PreparedMatrix): MatrixInternal => {
    const m = matrix as MatrixInternal
    if (!matrices.has(m)) throw new HeJobError('this matrix was not prepared by this miner, or was deleted')
    return m
  }
  const packedOf = (matrix: PreparedMatrix): PackedMatrix => {
    const m = packed.get(matrix)
    if (m === undefined) throw new HeJobError('this matrix was not prepared by this miner, or was deleted')
    return m
  }
  return {
    prepare (plan, w, range) {
      if (w.length !== plan.dOut * plan.dIn) throw new HeJobError(`matrix has ${w.length} weights, the plan expects ${plan.dOut}×${plan.dIn}`)
      const s = plan.split
      const [first, end] = range ?? [0, s.blocks]
      checkRange([first, end], s.blocks)
      if (plan.scheme === 'packed') {
        const pm = preparePacked(seal, get(plan), plan, w, [first, end])
        const handle: PreparedMatrix = { plan, blocks: [first, end], heapBytes: pm.heapBytes, delete () { packed.delete(handle) } }
        packed.set(handle, pm)
        return handle
      }
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

    compute (matrix, inputs, keys, blocks) {
      if (matrix.plan.scheme === 'packed') {
        const pm = packedOf(matrix)
        const range = blocks ?? pm.blocks
        return encodePackedParts(pm, computePackedRoots(seal, pm, inputs, keysFor(keys), range, monomial(pm.ctx)))
      }
      const m = coeffOf(matrix)
      const job = coeffJob(m, inputs, blocks)
      loadInputs(seal, m, job.decoded)
      return coeffResults(seal, m, job.range, kernelWords(m))
    },

    async computeWith (matrix, inputs, mac, keys, blocks) {
      if (matrix.plan.scheme === 'packed') {
        const pm = packedOf(matrix)
        const range = blocks ?? pm.blocks
        return encodePackedParts(pm, await computePackedRootsWith(seal, pm, inputs, keysFor(keys), range, monomial(pm.ctx), mac))
      }
      const m = coeffOf(matrix)
      const job = coeffJob(m, inputs, blocks)
      loadInputs(seal, m, job.decoded)
      const words = await engineWords(m, mac)
      // The matrix may have been deleted while the engine computed; its kernel memory is still ours.
      return coeffResults(seal, m, job.range, words)
    },

    macWeights (matrix) {
      return matrix.plan.scheme === 'packed' ? packedMacWeights(packedOf(matrix)) : coeffMacWeights(coeffOf(matrix))
    },

    computeRaw (matrix, inputs, keys) {
      if (matrix.plan.scheme === 'packed') {
        const pm = packedOf(matrix)
        return computePackedRoots(seal, pm, inputs, keysFor(keys), pm.blocks, monomial(pm.ctx)).map(p => p.root)
      }
      const m = coeffOf(matrix)
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
    },

    loadGaloisKeys (bytes, plan) {
      let ctx: HeContext | undefined
      if (plan !== undefined) {
        if (plan.scheme !== 'packed') throw new HeJobError('coefficient plans use no Galois keys')
        ctx = get(plan)
      } else {
        if (bytes.byteLength < 16) throw new HeWireError(`Galois key set: ${bytes.byteLength} bytes is too short`)
        const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
        const fp = dv.getBigUint64(8, true)
        ctx = [...contexts.values()].find(c => c.specialPrime !== undefined && parmsFingerprint(c.parmsId) === fp)
        if (ctx === undefined) throw new HeWireError('Galois key set: for parameters this miner has prepared no packed matrix for (prepare one first, or pass the plan)')
      }
      const c = ctx
      if (c.specialPrime === undefined || c.keyParmsId === undefined) throw new HeJobError(`preset ${c.params.preset.name} has no key switching`)
      const fingerprint = parmsFingerprint(c.parmsId)
      const set = decodeGaloisKeys(bytes, { polyDegree: c.polyDegree, fingerprint, dataPrime: c.primes[0], specialPrime: c.specialPrime })
      const keys = sealCall('load Galois keys', () => {
        const k = new seal.GaloisKeys()
        try {
          k.loadFromArray(c.context, sealKeyBytes(set, c.polyDegree, c.keyParmsId as BigUint64Array))
        } catch (err) {
          k.delete()
          throw err
        }
        return k
      })
      const handle: GaloisKeyHandle = {
        id: set.id,
        fingerprint,
        heapBytes: set.keys.length * 4 * 8 * c.polyDegree,
        delete () {
          if (keySets.delete(handle)) keys.delete()
        }
      }
      keySets.set(handle, { id: set.id, fingerprint, keys })
      return handle
    },

    dispose () {
      for (const m of [...matrices]) m.delete()
      packed.clear()
      for (const h of [...keySets.keys()]) h.delete()
      for (const pt of monomials.values()) pt.delete()
      monomials.clear()
      for (const ctx of contexts.values()) ctx.delete()
      contexts.clear()
    }
  }
}
