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
import { computePackedRoots, computePackedRootsWith, encodePackedParts, packedMacWeights, preparePacked, type LoadedKeys, type PackedMatrix } from './packed-miner.ts'
import type { LoadedMac, MacWeights } from './mac-engine.ts'
import { coeffMacWeights, computeCoeff, computeCoeffRaw, computeCoeffWith, prepareCoeff, type CoeffMatrix } from './coeff-miner.ts'
import { createContext, paramsKey, type HeContext } from './params.ts'
import type { MatvecPlan } from './plan.ts'
import type { Seal } from './seal.ts'
import { plaintextBytes } from './seal-bytes.ts'
import { parmsFingerprint } from './wire.ts'

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

/** Check a block range against [0, blocks). */
function checkRange (range: readonly [number, number], blocks: number): void {
  const [first, end] = range
  if (!Number.isInteger(first) || !Number.isInteger(end) || first < 0 || end > blocks || first > end) throw new HeJobError(`block range [${first}, ${end}) is outside [0, ${blocks})`)
}

/** Create a miner. It takes no key, because it has no secret use for one. */
export function createHeMiner (seal: Seal): HeMiner {
  const contexts = new Map<string, HeContext>()
  const matrices = new Set<CoeffMatrix>()
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
  const coeffOf = (matrix: PreparedMatrix): CoeffMatrix => {
    const m = matrix as CoeffMatrix
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
      const m: CoeffMatrix = prepareCoeff(seal, get(plan), plan, w, [first, end], () => { matrices.delete(m) })
      matrices.add(m)
      return m
    },

    compute (matrix, inputs, keys, blocks) {
      if (matrix.plan.scheme === 'packed') {
        const pm = packedOf(matrix)
        const range = blocks ?? pm.blocks
        return encodePackedParts(pm, computePackedRoots(seal, pm, inputs, keysFor(keys), range, monomial(pm.ctx)))
      }
      return computeCoeff(seal, coeffOf(matrix), inputs, blocks)
    },

    async computeWith (matrix, inputs, mac, keys, blocks) {
      if (matrix.plan.scheme === 'packed') {
        const pm = packedOf(matrix)
        const range = blocks ?? pm.blocks
        return encodePackedParts(pm, await computePackedRootsWith(seal, pm, inputs, keysFor(keys), range, monomial(pm.ctx), mac))
      }
      return await computeCoeffWith(seal, coeffOf(matrix), inputs, mac, blocks)
    },

    macWeights (matrix) {
      return matrix.plan.scheme === 'packed' ? packedMacWeights(packedOf(matrix)) : coeffMacWeights(coeffOf(matrix))
    },

    computeRaw (matrix, inputs, keys) {
      if (matrix.plan.scheme === 'packed') {
        const pm = packedOf(matrix)
        return computePackedRoots(seal, pm, inputs, keysFor(keys), pm.blocks, monomial(pm.ctx)).map(p => p.root)
      }
      return computeCoeffRaw(seal, coeffOf(matrix), inputs)
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
