/**
 * A matvec plan: which scheme, parameters and block split encrypt one job — T int8
 * matrix–vector products with the same d_out × d_in matrix. Both sides derive everything
 * else from it.
 *
 * Two schemes:
 * - 'coeff': the coefficient encoding of packing.ts, no keys; one result ciphertext per
 *   output block per vector.
 * - 'packed': packed-layout.ts — key switching (Galois keys from the user), one dense input
 *   ciphertext per chunk and as few result ciphertexts as decryption needs.
 */
import { HeParamsError } from './errors.ts'
import { blockSplit, plainBitsFor, type BlockSplit } from './packing.ts'
import { forEachOutput, outputCount, packedLayout, type PackedLayout } from './packed-layout.ts'
import { packedNoiseBound, resultWidths, worstInputNoiseBits, type PackedNoiseBound, type PackedNoiseParams, type ResultWidths } from './packed-noise.ts'
import { packedPlainModulus, packedResultBound } from './packed-params.ts'
import { presetByName, validateParams, type HeParams, type RingPreset } from './params.ts'

/** One encrypted job, fully determined. */
export interface MatvecPlan {
  readonly dOut: number
  readonly dIn: number
  readonly params: HeParams
  /**
   * The block split. For a packed plan: blocks = merged leaves (the unit a worker pool splits
   * by), chunks = input ciphertexts per group, nO = results per merged leaf.
   */
  readonly split: BlockSplit
  /**
   * Bits per result coefficient after the miner's modulus switch from q to 2^bits
   * (see {@link resultBits}); for a packed plan, c1's width.
   */
  readonly resultBits: number
  /** 'coeff' for plans made by {@link makePlan}, 'packed' for {@link makePackedPlan}. */
  readonly scheme: 'coeff' | 'packed'
  /** T: input vectors per job (1 for decoding a token, the prompt length for prefill). */
  readonly batch: number
  /** Everything the packed scheme derives; absent for 'coeff'. */
  readonly packed?: PackedPlanInfo
}

/** What a packed plan fixes beyond the split. */
export interface PackedPlanInfo {
  readonly layout: PackedLayout
  /**
   * The declared bound on the input key switches' noise σ (log2, units of q, in sixteenths of
   * a bit; packed-noise.ts): the noise bound assumes it, and the miner refuses a matrix that
   * exceeds it. Without the weights the planner declares the bound for any int8 matrix.
   */
  readonly noiseBits16: number
  readonly noise: PackedNoiseBound
  /** Result widths: c0 at the useful coefficients, c1 whole. */
  readonly widths: ResultWidths
  readonly noiseParams: PackedNoiseParams
}

/**
 * The packed part of a plan.
 * @throws {HeParamsError} for a coefficient plan.
 */
export function packedInfo (plan: MatvecPlan): PackedPlanInfo {
  if (plan.packed === undefined) throw new HeParamsError(`a ${plan.scheme} plan has no packed layout`)
  return plan.packed
}

/** Most input vectors in one job: a prompt chunk; bounds a job's size (longer prompts are several jobs). */
export const MAX_BATCH = 256

/**
 * Width b of result coefficients on the wire. Rounding c ↦ round(c·2^b/q) and back adds
 * at most q/2^(b+1) (+ a few units of float64 rounding) to each of c0 and c1, so at most
 * (N + 1)·q/2^(b+1) to c0 + c1·s (s is ternary). Decryption stays exact while that is
 * below q/(8t), i.e. 2^b ≥ 4·t·(N + 1): b = log2 t + ⌈log2(N + 1)⌉ + 2. The other 3/8 of
 * the q/(2t) decryption margin is left to the HE noise, which the planner keeps below
 * q/(4t) (a noise budget ≥ 1 bit).
 */
export function resultBits (plainBits: number, polyDegree: number, primeBits: number): number {
  return Math.min(primeBits, plainBits + Math.ceil(Math.log2(polyDegree + 1)) + 2)
}

/**
 * The plan for a dOut × dIn matrix on a ring preset with nI inputs per ciphertext; t is
 * the smallest power of two that holds every result.
 * @throws {HeParamsError} when t does not fit under the preset's modulus.
 */
export function makePlan (dOut: number, dIn: number, preset: RingPreset, nI: number, batch = 1): MatvecPlan {
  if (!Number.isInteger(dOut) || !Number.isInteger(dIn) || dOut < 1 || dIn < 1) throw new HeParamsError(`matrix shape ${dOut}×${dIn} is not positive`)
  checkBatch(batch)
  if (preset.coeffBits.length !== 1) throw new HeParamsError(`preset ${preset.name}: only single-prime moduli are supported`)
  const plainBits = plainBitsFor(dIn)
  const primeBits = preset.coeffBits[0]
  if (plainBits >= primeBits - 2) throw new HeParamsError(`a ${dIn}-wide dot product needs t = 2^${plainBits}, too large for a ${primeBits}-bit modulus`)
  return {
    dOut,
    dIn,
    params: { preset, plainBits },
    split: blockSplit(dOut, dIn, preset.polyDegree, nI),
    resultBits: resultBits(plainBits, preset.polyDegree, primeBits),
    scheme: 'coeff',
    batch
  }
}

function checkBatch (batch: number): void {
  if (!Number.isSafeInteger(batch) || batch < 1 || batch > MAX_BATCH) throw new HeParamsError(`batch ${batch} is outside [1, ${MAX_BATCH}]`)
}

/** The choices of a packed plan; the rest is derived. */
export interface PackedChoice {
  /** n_i: a power of two, N/2 at most. */
  readonly nI: number
  /** b: input-side orbit levels. */
  readonly orbitLevels: number
  /** Input vectors per ciphertext (default 1). */
  readonly vectors?: number
  readonly batch?: number
  /** t (default: {@link packedPlainModulus}); a caller may share one t between plans, and so one key set. */
  readonly plainModulus?: number
  /** The declared input noise bound, log2 σ in sixteenths (default: the bound for any int8 matrix). */
  readonly noiseBits16?: number
}

/**
 * The packed plan for a dOut × dIn job on a key-switching preset.
 * @throws {HeParamsError} for an impossible layout, a t that cannot hold the results, or
 * noise that leaves no room for the result switch.
 */
export function makePackedPlan (dOut: number, dIn: number, preset: RingPreset, choice: PackedChoice): MatvecPlan {
  if (!Number.isInteger(dOut) || !Number.isInteger(dIn) || dOut < 1 || dIn < 1) throw new HeParamsError(`matrix shape ${dOut}×${dIn} is not positive`)
  if (preset.coeffBits.length !== 2) throw new HeParamsError(`preset ${preset.name} has no special prime: the packed scheme needs a key-switching preset`)
  const batch = choice.batch ?? 1
  checkBatch(batch)
  const n = preset.polyDegree
  if (!Number.isInteger(choice.nI) || choice.nI < 1 || choice.nI > n / 2 || (choice.nI & (choice.nI - 1)) !== 0) throw new HeParamsError(`packed n_i = ${choice.nI} must be a power of two ≤ N/2 = ${n / 2}`)
  const t = choice.plainModulus ?? packedPlainModulus(dIn, n)
  if (t <= 2 * packedResultBound(dIn)) throw new HeParamsError(`plaintext modulus ${t} cannot hold a ${dIn}-wide dot product (needs > ${2 * packedResultBound(dIn)})`)
  const params: HeParams = { preset, plainBits: Math.ceil(Math.log2(t)), plainModulus: t }
  validateParams(params)
  const layout = packedLayout(dOut, dIn, n, { m: Math.log2(n / choice.nI), orbitLevels: choice.orbitLevels, vectors: choice.vectors, batch })
  const noiseParams: PackedNoiseParams = { polyDegree: n, plainModulus: t, dataBits: preset.coeffBits[0], specialBits: preset.coeffBits[1] }
  const worst16 = layout.orbitLevels === 0 ? 0 : Math.ceil(16 * worstInputNoiseBits(layout, noiseParams))
  const noiseBits16 = layout.orbitLevels === 0 ? 0 : choice.noiseBits16 ?? worst16
  if (!Number.isInteger(noiseBits16) || noiseBits16 < 0 || noiseBits16 > worst16) throw new HeParamsError(`declared input noise bound 2^(${noiseBits16}/16) is outside [1, the bound for any matrix 2^(${worst16}/16)]`)
  const noise = packedNoiseBound(layout, noiseParams, noiseBits16 / 16)
  const widths = resultWidths(noise.he, noiseParams, outputCount(layout, 0, Math.min(layout.perTree, layout.blocks)))
  return {
    dOut,
    dIn,
    params,
    split: { dOut, dIn, polyDegree: n, nI: layout.nI, nO: 2 ** (layout.m + layout.orbitLevels), chunks: layout.chunks, blocks: layout.blocks },
    resultBits: widths.c1Bits,
    scheme: 'packed',
    batch,
    packed: { layout, noiseBits16, noise, widths, noiseParams }
  }
}

/** A plan as plain data, for messages: everything else is derived again on arrival. */
export interface PlanData {
  readonly dOut: number
  readonly dIn: number
  readonly preset: string
  readonly nI: number
  /** Default 'coeff' (plans from before the packed scheme). */
  readonly scheme?: 'coeff' | 'packed'
  /** Default 1. */
  readonly batch?: number
  /** Packed only: t, b, vectors per ciphertext and the declared input noise bound. */
  readonly plainModulus?: number
  readonly orbitLevels?: number
  readonly vectors?: number
  readonly noiseBits16?: number
}

/** The message form of a plan. */
export function planToData (plan: MatvecPlan): PlanData {
  const base = { dOut: plan.dOut, dIn: plan.dIn, preset: plan.params.preset.name, nI: plan.split.nI }
  if (plan.packed === undefined) return plan.batch === 1 ? base : { ...base, scheme: 'coeff', batch: plan.batch }
  const L = plan.packed.layout
  return { ...base, scheme: 'packed', batch: plan.batch, plainModulus: plan.params.plainModulus, orbitLevels: L.orbitLevels, vectors: L.vectors, noiseBits16: plan.packed.noiseBits16 }
}

/**
 * Rebuild (and so re-validate) a plan from its message form.
 * @throws {HeParamsError} for an unknown preset or an impossible shape.
 */
export function planFromData (d: PlanData): MatvecPlan {
  const preset = presetByName(d.preset)
  if (preset === undefined) throw new HeParamsError(`unknown ring preset "${d.preset}"`)
  for (const [k, v] of [['dOut', d.dOut], ['dIn', d.dIn], ['nI', d.nI]] as const) {
    if (!Number.isSafeInteger(v) || v < 1 || v > MAX_DIMENSION) throw new HeParamsError(`plan field ${k} = ${v} is outside [1, ${MAX_DIMENSION}]`)
  }
  const batch = d.batch ?? 1
  if ((d.scheme ?? 'coeff') === 'coeff') {
    if (d.plainModulus !== undefined || d.orbitLevels !== undefined || d.vectors !== undefined || d.noiseBits16 !== undefined) throw new HeParamsError('a coefficient plan carries packed fields')
    if (d.nI > Math.min(d.dIn, preset.polyDegree)) throw new HeParamsError(`plan n_i = ${d.nI} exceeds min(d_in, N)`)
    return makePlan(d.dOut, d.dIn, preset, d.nI, batch)
  }
  if (d.scheme !== 'packed') throw new HeParamsError(`unknown scheme "${String(d.scheme)}"`)
  if (d.plainModulus === undefined || d.orbitLevels === undefined || d.vectors === undefined || d.noiseBits16 === undefined) throw new HeParamsError('a packed plan needs t, the orbit levels, the vectors per ciphertext and the noise bound')
  return makePackedPlan(d.dOut, d.dIn, preset, { nI: d.nI, orbitLevels: d.orbitLevels, vectors: d.vectors, batch, plainModulus: d.plainModulus, noiseBits16: d.noiseBits16 })
}

/** Largest matrix side accepted in a plan (Llama-2-70B's FFN is 28,672 wide). */
export const MAX_DIMENSION = 1 << 17

/** Split [0, blocks) into `parts` contiguous ranges of near-equal length (some possibly empty). */
export function splitBlocks (blocks: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (let i = 0; i < parts; i++) out.push([Math.floor((i * blocks) / parts), Math.floor(((i + 1) * blocks) / parts)])
  return out
}

/** The rows of vector `vector` that block `b` of a job of `plan` computes. */
export function blockRows (plan: MatvecPlan, b: number, vector: number): number[] {
  const L = plan.packed?.layout
  if (L === undefined) {
    const nO = plan.split.nO
    return Array.from({ length: Math.max(0, Math.min((b + 1) * nO, plan.dOut) - b * nO) }, (_, r) => b * nO + r)
  }
  const rows: number[] = []
  forEachOutput(L, b, (_pos, vec, row) => { if (vec === vector) rows.push(row) })
  return rows
}
