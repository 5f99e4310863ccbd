/**
 * A matvec plan: which parameters and which block split encrypt one d_out × d_in int8
 * matrix–vector product. Both sides derive everything else from it.
 */
import { HeParamsError } from './errors.ts'
import { blockSplit, plainBitsFor, type BlockSplit } from './packing.ts'
import { presetByName, type HeParams, type RingPreset } from './params.ts'

/** One encrypted matvec, fully determined. */
export interface MatvecPlan {
  readonly dOut: number
  readonly dIn: number
  readonly params: HeParams
  readonly split: BlockSplit
  /**
   * Bits per result coefficient after the miner's modulus switch from q to 2^bits
   * (see {@link resultBits}).
   */
  readonly resultBits: number
}

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
export function makePlan (dOut: number, dIn: number, preset: RingPreset, nI: number): MatvecPlan {
  if (!Number.isInteger(dOut) || !Number.isInteger(dIn) || dOut < 1 || dIn < 1) throw new HeParamsError(`matrix shape ${dOut}×${dIn} is not positive`)
  if (preset.coeffBits.length !== 1) throw new HeParamsError(`preset ${preset.name}: only single-prime moduli are supported`)
  const plainBits = plainBitsFor(dIn)
  const primeBits = preset.coeffBits[0]
  if (plainBits >= primeBits - 2) throw new HeParamsError(`a ${dIn}-wide dot product needs t = 2^${plainBits}, too large for a ${primeBits}-bit modulus`)
  return {
    dOut,
    dIn,
    params: { preset, plainBits },
    split: blockSplit(dOut, dIn, preset.polyDegree, nI),
    resultBits: resultBits(plainBits, preset.polyDegree, primeBits)
  }
}

/** A plan as plain data, for messages: everything else is derived again on arrival. */
export interface PlanData {
  readonly dOut: number
  readonly dIn: number
  readonly preset: string
  readonly nI: number
}

/** The message form of a plan. */
export function planToData (plan: MatvecPlan): PlanData {
  return { dOut: plan.dOut, dIn: plan.dIn, preset: plan.params.preset.name, nI: plan.split.nI }
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
  if (d.nI > Math.min(d.dIn, preset.polyDegree)) throw new HeParamsError(`plan n_i = ${d.nI} exceeds min(d_in, N)`)
  return makePlan(d.dOut, d.dIn, preset, d.nI)
}

/** Largest matrix side accepted in a plan (Llama-2-70B's FFN is 28,672 wide). */
export const MAX_DIMENSION = 1 << 17

/** Split [0, blocks) into `parts` contiguous ranges of near-equal length (some possibly empty). */
export function splitBlocks (blocks: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (let i = 0; i < parts; i++) out.push([Math.floor((i * blocks) / parts), Math.floor(((i + 1) * blocks) / parts)])
  return out
}
