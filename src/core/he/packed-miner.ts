/**
 * The miner's side of the packed scheme (layout: packed-layout.ts). Like miner.ts it holds
 * no secret: it gets the user's Galois keys (public key material) and applies
 * automorphisms with them.
 *
 * Per job and block range: each needed input ciphertext is scaled by 2^−b mod q and
 * expanded into its orbit (SEAL applyGalois, 2^b − 1 key switches); the merged leaves are
 * multiply-accumulated (packed-mac.ts: our WebAssembly kernel, or an engine such as the GPU)
 * against the merged plaintexts encoded at prepare time, scaled by 2^−e, and packed by the PackRLWEs tree (SEAL
 * sub/add/applyGalois); each tree's root is rounded to the plan's result widths.
 *
 * Heap: a prepared matrix holds 2^b × chunks × (merged leaves per group) NTT plaintexts of
 * 8·N bytes — ≈ d_in·d_out/N·8·N·(padding) bytes, the same as the coefficient scheme
 * (e.g. 4096 × 4096 at N = 4096: 134 MB) — plus 16·N bytes per orbit element of the groups
 * it serves. A loaded key set holds SEAL's expanded keys: keys × 2 polynomials × 2 primes ×
 * 8·N bytes (12 keys at N = 4096: 1.6 MB).
 */
import { HeJobError, sealCall } from './errors.ts'
import { levelSealElements } from './galois.ts'
import { columnLeaves, mergeLeaves, mergeExponents, outputPositions, packTree, treesOf } from './packed-layout.ts'
import { columnInputVariance } from './packed-noise.ts'
import { decodePackedInput, encodePackedResult, type PackedInput } from './packed-wire.ts'
import type { HeContext } from './params.ts'
import { packedInfo, type MatvecPlan } from './plan.ts'
import { withScope, type Scope, type Seal } from './seal.ts'
import { ciphertextBytes, CT_DATA_OFFSET, parseCiphertext, plaintextBytes, PT_DATA_OFFSET, seededBytes } from './seal-bytes.ts'
import { barrett, createMacKernel, foldInterval } from './kernel/mac-kernel.ts'
import { parmsFingerprint } from './wire.ts'
import type { LoadedMac } from './mac-engine.ts'
import { engineLeafWords, kernelLeafWords, scaleInKernel, type LeafWords, type PackedMatrix } from './packed-mac.ts'

// The prepared matrix's layout and its MAC live in packed-mac.ts; miner.ts imports them from here.
export { packedMacWeights, type PackedMatrix } from './packed-mac.ts'

type Ciphertext = InstanceType<Seal['Ciphertext']>
type GaloisKeys = InstanceType<Seal['GaloisKeys']>

/** Loaded Galois keys. */
export interface LoadedKeys {
  readonly id: bigint
  readonly fingerprint: bigint
  readonly keys: GaloisKeys
}

function modPow (base: bigint, e: bigint, m: bigint): bigint {
  let r = 1n
  let x = base % m
  for (let k = e; k > 0n; k >>= 1n) {
    if ((k & 1n) === 1n) r = (r * x) % m
    x = (x * x) % m
  }
  return r
}

/**
 * Encode W for a packed plan's blocks [first, end).
 * @throws {HeJobError} when W's merged plaintexts exceed the plan's declared norm bound.
 */
export function preparePacked (seal: Seal, ctx: HeContext, plan: MatvecPlan, w: Int8Array, range: readonly [number, number]): PackedMatrix {
  const info = plan.packed
  if (info === undefined) throw new HeJobError('not a packed plan')
  const L = info.layout
  const n = L.polyDegree
  const polyBytes = 8 * n
  const orbitSize = 2 ** L.orbitLevels
  const [first, end] = range
  const g0 = Math.floor(first / L.colsPerGroup)
  const g1 = end > first ? Math.floor((end - 1) / L.colsPerGroup) + 1 : g0
  // Columns the range needs (a column's plaintexts serve every group).
  const need = new Uint8Array(L.colsPerGroup)
  for (let b = first; b < end; b++) need[b % L.colsPerGroup] = 1
  const pOff = new Int32Array(orbitSize * L.chunks * L.colsPerGroup).fill(-1)
  const polys = Array.from({ length: orbitSize }, () => new Int32Array(n))
  const nonzero = new Uint8Array(orbitSize)
  const variance = new Float64Array(L.colsPerGroup)
  const coeffs = new Uint32Array(n)
  const t = ctx.plainModulus
  const nonzeroCol = new Uint8Array(L.colsPerGroup)
  const encoded: Array<[number, Uint8Array]> = []
  let offset = 0
  withScope(scope => sealCall('encode packed weights', () => {
    const pid = scope.own(ctx.context.firstParmsId())
    for (let c = 0; c < L.chunks; c++) {
      for (let col = 0; col < L.colsPerGroup; col++) {
        if (need[col] === 0) continue
        const leaves = columnLeaves(L, w, c, col)
        for (let s = 0; s < orbitSize; s++) {
          const p = polys[s]
          nonzero[s] = mergeLeaves(L, leaves, s, p) ? 1 : 0
          if (nonzero[s] === 0) continue
          nonzeroCol[col] = 1
          for (let i = 0; i < n; i++) coeffs[i] = p[i] < 0 ? t + p[i] : p[i]
          const pt = scope.own(new seal.Plaintext())
          pt.loadFromArray(ctx.context, plaintextBytes(coeffs))
          ctx.evaluator.plainTransformToNttInplace(pt, pid)
          const bytes = pt.saveToArray(seal.ComprModeType.none) as Uint8Array
          pt.delete()
          pOff[(s * L.chunks + c) * L.colsPerGroup + col] = offset
          encoded.push([offset, bytes.subarray(PT_DATA_OFFSET, PT_DATA_OFFSET + polyBytes)])
          offset += polyBytes
        }
        if (L.orbitLevels > 0) variance[col] += columnInputVariance(L, polys, nonzero, info.noiseParams)
      }
    }
  }))
  // The plan's noise bound assumed at most 2^(noiseBits16/16) of input key-switch noise.
  const worst = Math.max(0, ...variance)
  const noiseBits = worst === 0 ? -Infinity : 0.5 * Math.log2(worst)
  if (noiseBits > info.noiseBits16 / 16 + 1e-9) throw new HeJobError(`this matrix's input key-switch noise reaches 2^${noiseBits.toFixed(2)}, above the plan's declared bound 2^${(info.noiseBits16 / 16).toFixed(2)}: plan it with its weights (planMatvec(…, { weights }))`)
  const logN = Math.log2(n)
  const constOff = offset
  const orbitOff = constOff + (logN + 1) * polyBytes
  const accOff = orbitOff + (g1 - g0) * L.chunks * orbitSize * 2 * polyBytes
  const outOff = accOff + 4 * polyBytes
  const heapBytes = outOff + 2 * polyBytes
  const kernel = createMacKernel()
  kernel.ensure(heapBytes)
  const mem = new Uint8Array(kernel.memory.buffer)
  for (const [o, bytes] of encoded) mem.set(bytes, o)
  const q = ctx.primes[0]
  const inv2 = (q + 1n) / 2n
  const words = new BigUint64Array(n)
  for (let k = 0; k <= logN; k++) {
    words.fill(modPow(inv2, BigInt(k), q))
    mem.set(new Uint8Array(words.buffer), constOff + k * polyBytes)
  }
  const zero = new Uint8Array(end - first)
  for (let b = first; b < end; b++) zero[b - first] = nonzeroCol[b % L.colsPerGroup] === 1 ? 0 : 1
  return { plan, blocks: [first, end], ctx, kernel, pOff, zero, constOff, orbitOff, accOff, outOff, groupRange: [g0, g1], barrett: { ...barrett(q), fold: foldInterval(q) }, heapBytes, noiseBits }
}

/** Applies τ at packing level ℓ (one or two SEAL automorphisms). */
function applyLevel (m: PackedMatrix, keys: LoadedKeys, ct: Ciphertext, level: number): void {
  for (const g of levelSealElements(m.ctx.polyDegree, level)) m.ctx.evaluator.applyGaloisInplace(ct, g, keys.keys)
}

/**
 * The orbits of the inputs the range needs, NTT form, into kernel memory: orbit element S of
 * input (g, c) at orbitOff + (((g − g0)·chunks + c)·2^b + S)·16N.
 */
function loadOrbits (seal: Seal, m: PackedMatrix, inputs: readonly PackedInput[], keys: LoadedKeys, groups: readonly [number, number]): void {
  const L = packedInfo(m.plan).layout
  const { ctx, kernel } = m
  const n = ctx.polyDegree
  const polyBytes = 8 * n
  const orbitSize = 2 ** L.orbitLevels
  for (let g = groups[0]; g < groups[1]; g++) {
    for (let c = 0; c < L.chunks; c++) {
      const d = inputs[g * L.chunks + c]
      const base = m.orbitOff + (((g - m.groupRange[0]) * L.chunks + c) * orbitSize) * 2 * polyBytes
      withScope(scope => sealCall('expand an input orbit', () => {
        const ct = scope.own(new seal.Ciphertext())
        ct.loadFromArray(ctx.context, seededBytes({ parmsId: ctx.parmsId, polyDegree: n, limbs: 1, c0: d.c0, seedBlob: d.seedBlob }))
        // 2^−b before any key switch, so that the orbit's trace restores the scale exactly
        // and no key-switching noise is multiplied back by 2^b.
        const raw = ct.saveToArray(seal.ComprModeType.none) as Uint8Array
        new Uint8Array(kernel.memory.buffer, base, 2 * polyBytes).set(raw.subarray(CT_DATA_OFFSET, CT_DATA_OFFSET + 2 * polyBytes))
        scaleInKernel(m, base, L.orbitLevels, m.outOff)
        const scaled = new Uint32Array(kernel.memory.buffer.slice(m.outOff, m.outOff + 2 * polyBytes))
        const orbit: Ciphertext[] = [ct]
        ct.loadFromArray(ctx.context, ciphertextBytes({ parmsId: ctx.parmsId, isNtt: false, size: 2, polyDegree: n, limbs: 1, words: scaled }))
        for (let l = 0; l < L.orbitLevels; l++) {
          const count = orbit.length
          for (let k = 0; k < count; k++) {
            const o = scope.own(orbit[k].copy())
            applyLevel(m, keys, o, L.m + 1 + l)
            orbit.push(o)
          }
        }
        orbit.forEach((o, s) => {
          ctx.evaluator.cipherTransformToNttInplace(o)
          const bytes = o.saveToArray(seal.ComprModeType.none) as Uint8Array
          new Uint8Array(kernel.memory.buffer, base + s * 2 * polyBytes, 2 * polyBytes).set(bytes.subarray(CT_DATA_OFFSET, CT_DATA_OFFSET + 2 * polyBytes))
        })
      }))
    }
  }
}

/** Merged leaf `block` (its MAC words, scaled by 2^−e, back in coefficient form) as a SEAL ciphertext. */
function mergedLeaf (seal: Seal, m: PackedMatrix, leaf: LeafWords, block: number, e: number, scope: Scope): Ciphertext {
  const { ctx, kernel } = m
  const n = ctx.polyDegree
  const polyBytes = 8 * n
  new Uint32Array(kernel.memory.buffer, m.outOff, 4 * n).set(leaf(block))
  if (e > 0) scaleInKernel(m, m.outOff, e, m.outOff)
  const words = new Uint32Array(kernel.memory.buffer.slice(m.outOff, m.outOff + 2 * polyBytes))
  const ct = scope.own(new seal.Ciphertext())
  ct.loadFromArray(ctx.context, ciphertextBytes({ parmsId: ctx.parmsId, isNtt: true, size: 2, polyDegree: n, limbs: 1, words }))
  ctx.evaluator.cipherTransformFromNttInplace(ct)
  return ct
}

/** One tree part of a computed range: its root (null when every block is zero). */
interface TreePart {
  readonly tree: number
  readonly first: number
  readonly end: number
  readonly zeros: number[]
  readonly root: Uint8Array | null
}

/** Validate a packed job (before SEAL sees any of it); the decoded inputs and the input groups the range needs. */
function packedJob (m: PackedMatrix, inputs: readonly Uint8Array[], keys: LoadedKeys, range: readonly [number, number]): { decoded: PackedInput[], groups: readonly [number, number] } {
  const L = packedInfo(m.plan).layout
  const { ctx } = m
  const fingerprint = parmsFingerprint(ctx.parmsId)
  if (keys.fingerprint !== fingerprint) throw new HeJobError('these Galois keys are for other parameters than the matrix\'s plan')
  if (inputs.length !== L.groups * L.chunks) throw new HeJobError(`${inputs.length} input ciphertexts, the plan has ${L.groups} groups × ${L.chunks} chunks`)
  const [first, end] = range
  if (!(m.blocks[0] <= first && first <= end && end <= m.blocks[1])) throw new HeJobError(`block range [${first}, ${end}) is outside the prepared [${m.blocks[0]}, ${m.blocks[1]})`)
  const expect = { polyDegree: ctx.polyDegree, fingerprint, prime: ctx.primes[0], primeBits: ctx.primeBits[0], keyId: keys.id }
  const decoded = inputs.map(bytes => decodePackedInput(bytes, expect))
  const groups: readonly [number, number] = first === end ? [0, 0] : [Math.floor(first / L.colsPerGroup), Math.floor((end - 1) / L.colsPerGroup) + 1]
  return { decoded, groups }
}

/** Run blocks [first, end) of a prepared packed matrix; returns each tree part's root ciphertext. */
export function computePackedRoots (seal: Seal, m: PackedMatrix, inputs: readonly Uint8Array[], keys: LoadedKeys, range: readonly [number, number], monomial: (h: number) => InstanceType<Seal['Plaintext']>): TreePart[] {
  const { decoded, groups } = packedJob(m, inputs, keys, range)
  if (range[0] === range[1]) return []
  loadOrbits(seal, m, decoded, keys, groups)
  return packTrees(seal, m, keys, range, monomial, kernelLeafWords(m))
}

/** {@link computePackedRoots} with the merged leaves' MAC on an engine holding {@link packedMacWeights}: the same roots, bit for bit. */
export async function computePackedRootsWith (seal: Seal, m: PackedMatrix, inputs: readonly Uint8Array[], keys: LoadedKeys, range: readonly [number, number], monomial: (h: number) => InstanceType<Seal['Plaintext']>, mac: LoadedMac): Promise<TreePart[]> {
  const { decoded, groups } = packedJob(m, inputs, keys, range)
  if (range[0] === range[1]) return []
  loadOrbits(seal, m, decoded, keys, groups)
  const leaf = await engineLeafWords(m, groups, mac)
  return packTrees(seal, m, keys, range, monomial, leaf)
}

/** Pack each tree part of `range` from its merged leaves' MAC words (SEAL's PackRLWEs tree). */
function packTrees (seal: Seal, m: PackedMatrix, keys: LoadedKeys, range: readonly [number, number], monomial: (h: number) => InstanceType<Seal['Plaintext']>, leaf: LeafWords): TreePart[] {
  const L = packedInfo(m.plan).layout
  const { ctx } = m
  const n = ctx.polyDegree
  const [first, end] = range
  const ev = ctx.evaluator
  const top = L.m + L.orbitLevels + L.treeLevels
  return treesOf(L, first, end).map(part => withScope(scope => sealCall('pack a result tree', () => {
    const zeros: number[] = []
    const occupied = new Array<boolean>(L.perTree).fill(false)
    for (let b = part.first; b < part.end; b++) {
      if (m.zero[b - m.blocks[0]] === 1) zeros.push(b)
      else occupied[b % L.perTree] = true
    }
    const e = mergeExponents(occupied)
    const slots: Array<Ciphertext | null> = occupied.map((on, slot) => on ? mergedLeaf(seal, m, leaf, part.tree * L.perTree + slot, e[slot], scope) : null)
    const shifted = (odd: Ciphertext, level: number): Ciphertext => {
      const u = scope.own(new seal.Ciphertext())
      ev.multiplyPlain(odd, monomial(n >> level), u)
      return u
    }
    const root = packTree(slots, top, {
      shift: shifted,
      merge: (even, odd, level) => {
        const u = shifted(odd, level)
        const d = scope.own(new seal.Ciphertext())
        ev.sub(even, u, d)
        ev.addInplace(even, u)
        applyLevel(m, keys, d, level)
        ev.addInplace(even, d)
        return even
      }
    })
    return { ...part, zeros, root: root === null ? null : root.saveToArray(seal.ComprModeType.none) as Uint8Array }
  })))
}

/** Round (lo, hi) word i of `src` from q to 2^bits into word j of `dst`. */
function shrink (src: Uint32Array, i: number, q: number, bits: number, dst: Uint32Array, j: number): void {
  const two32 = 4294967296
  const wrap = 2 ** bits
  let v = Math.round((src[2 * i + 1] * two32 + src[2 * i]) * (wrap / q))
  if (v >= wrap) v -= wrap
  const hi = Math.floor(v / two32)
  dst[2 * j] = v - hi * two32
  dst[2 * j + 1] = hi
}

/** The result wire objects of tree parts: c1 whole and c0 at the useful coefficients, each at its width. */
export function encodePackedParts (m: PackedMatrix, parts: readonly TreePart[]): Uint8Array[] {
  const info = packedInfo(m.plan)
  const L = info.layout
  const n = m.ctx.polyDegree
  const q = m.ctx.primesDouble[0]
  const { c0Bits, c1Bits } = info.widths
  const fingerprint = parmsFingerprint(m.ctx.parmsId)
  return parts.map(part => {
    const f = part.root === null ? null : parseCiphertext(part.root)
    const c1 = new Uint32Array(2 * n)
    if (f !== null) for (let i = 0; i < n; i++) shrink(f.words, n + i, q, c1Bits, c1, i)
    const pos = outputPositions(L, part.first, part.end, part.zeros).position
    const c0 = new Uint32Array(2 * pos.length)
    if (f !== null) for (let j = 0; j < pos.length; j++) shrink(f.words, pos[j], q, c0Bits, c0, j)
    return encodePackedResult({ c0Bits, c1Bits, tree: part.tree, first: part.first, end: part.end, zeros: part.zeros, c1, c0 }, n, fingerprint)
  })
}
