/**
 * A squeezed model across a thread boundary. Squeezing a big model is seconds of work per
 * layer (each packed matrix's own noise bound, its prefill plan), so pages squeeze in the
 * user's HE worker, not on the UI thread; this is the message that carries the result back.
 *
 * What crosses: the built layout's groups, their matrices (buffers transferred, not
 * copied), their plans in message form ({@link PlanData}, rebuilt and so re-validated on
 * arrival), the rounds choice and the options. What stays: the forward pass's parameters,
 * which the receiver takes from its own checkpoint (the embedding alone is vocab × dim
 * floats), and the layout not built (`otherLayout`: miners serve both layouts and squeeze
 * for themselves; a user runs one).
 *
 * @example
 * ```ts
 * // in the worker
 * const { message, transfer } = squeezedToTransfer(squeezeModel(ckpt, opts))
 * postMessage(message, transfer)
 * // on the page, with the same checkpoint
 * const sq = squeezedFromTransfer(ckpt, event.data)
 * ```
 */
import type { Checkpoint } from '../model/checkpoint.ts'
import type { ForwardLayout } from '../model/forward.ts'
import { quantizedParams, type QuantizedMatrix } from '../model/w8a8.ts'
import { planFromData, planToData, type MatvecPlan, type PlanData } from '../he/plan.ts'
import type { RoundsChoice } from './rounds.ts'
import type { SqueezedGroup, SqueezedModel } from './squeeze.ts'
import { SqueezeOptionsError } from './errors.ts'

/**
 * One group of a {@link SqueezedTransfer}: a {@link SqueezedGroup} with its plans as data and
 * plain matrices (lazy ones are computed before sending).
 */
export type SqueezedGroupTransfer = Omit<SqueezedGroup, keyof PlanFields<MatvecPlan>> & PlanFields<PlanData>

interface PlanFields<P> {
  readonly plans: ReadonlyArray<P | undefined>
  readonly prefillPlans?: ReadonlyArray<P | undefined>
}

/** `g` with each plan mapped by `f`, its other fields as they are. */
function withPlans<P, Q, G extends PlanFields<P>> (g: G, f: (p: P) => Q): Omit<G, keyof PlanFields<P>> & PlanFields<Q> {
  const { plans, prefillPlans, ...rest } = g
  const each = (p: P | undefined): Q | undefined => p === undefined ? undefined : f(p)
  return { ...rest, plans: plans.map(each), ...(prefillPlans === undefined ? {} : { prefillPlans: prefillPlans.map(each) }) }
}

/** A squeezed model as a structured-clone message (see the file comment for what it leaves out). */
export interface SqueezedTransfer {
  readonly layout: ForwardLayout
  readonly rounds: RoundsChoice
  readonly options: SqueezedModel['options']
  /** The model's shape, checked against the receiver's checkpoint. */
  readonly dims: { readonly dim: number, readonly hiddenDim: number, readonly nLayers: number, readonly vocabSize: number }
  /** [groupKey, group], in round order. */
  readonly groups: ReadonlyArray<readonly [string, SqueezedGroupTransfer]>
}

const plain = (m: QuantizedMatrix): QuantizedMatrix => ({ rows: m.rows, cols: m.cols, q: m.q, scale: m.scale })

/**
 * The message form of `sq`'s built layout, and the buffers to transfer with it (the
 * matrices': `sq` must not be used after they are sent).
 */
export function squeezedToTransfer (sq: SqueezedModel): { message: SqueezedTransfer, transfer: ArrayBuffer[] } {
  const buffers = new Set<ArrayBuffer>()
  const groups: Array<readonly [string, SqueezedGroupTransfer]> = []
  for (const [key, g] of sq.groups) {
    const matrices = g.matrices.map(plain)
    for (const m of matrices) {
      for (const b of [m.q.buffer, m.scale.buffer]) if (b instanceof ArrayBuffer) buffers.add(b)
    }
    groups.push([key, { ...withPlans(g, planToData), matrices }])
  }
  const c = sq.params.config
  return {
    message: { layout: sq.layout, rounds: sq.rounds, options: sq.options, dims: { dim: c.dim, hiddenDim: c.hiddenDim, nLayers: c.nLayers, vocabSize: c.vocabSize }, groups },
    transfer: [...buffers]
  }
}

/**
 * The squeezed model of a {@link SqueezedTransfer}, with the forward pass's parameters from
 * `ckpt` (the checkpoint it was squeezed from). Equal plans become one object (each is
 * rebuilt, and so validated, once).
 * @throws {SqueezeOptionsError} when the message was squeezed from a model of another shape.
 * @throws {HeParamsError} for a plan that does not validate.
 */
export function squeezedFromTransfer (ckpt: Checkpoint, t: SqueezedTransfer): SqueezedModel {
  const c = ckpt.config
  if (t.dims.dim !== c.dim || t.dims.hiddenDim !== c.hiddenDim || t.dims.nLayers !== c.nLayers || t.dims.vocabSize !== c.vocabSize) {
    throw new SqueezeOptionsError(`this squeeze is of a ${t.dims.dim}-dim ${t.dims.nLayers}-layer model, not of this ${c.dim}-dim ${c.nLayers}-layer checkpoint`)
  }
  const plans = new Map<string, MatvecPlan>()
  const plan = (d: PlanData): MatvecPlan => {
    const key = JSON.stringify(d)
    let p = plans.get(key)
    if (p === undefined) {
      p = planFromData(d)
      plans.set(key, p)
    }
    return p
  }
  const groups = new Map<string, SqueezedGroup>()
  for (const [key, g] of t.groups) {
    groups.set(key, withPlans(g, plan))
  }
  return { params: quantizedParams(ckpt, t.options.fold), groups, layout: t.layout, rounds: t.rounds, options: t.options }
}
