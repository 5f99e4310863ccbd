/**
 * Cerberus Squeezing: a compiler from a checkpoint to an encrypted plan.
 *
 * Steps, each optional so that its effect can be measured:
 * - **fusion**: matrices that share an input (q|k|v; w1|w3) become one matrix with their
 *   rows stacked, so one encrypted input serves all of them;
 * - **folding**: RMSNorm gains are folded into the matrices that follow them;
 * - **W8A8**: int8 weights per output channel, int8 activations per token (w8a8.ts);
 * - **placement**: each group runs encrypted on miners, or locally in the clear when the
 *   user already holds its weights and that is cheaper (the classifier tied to the token
 *   embedding: its weights are the embedding table the user needs for the lookup anyway);
 * - **packing**: per matrix, the HE plan (ring, t, split) that minimises predicted latency
 *   for the network profile.
 * The result says, per group, where it runs, why, and what it is predicted to cost.
 */
import type { Checkpoint } from '../model/checkpoint.ts'
import type { LinearGroup, TransformerParams } from '../model/forward.ts'
import { linearGroups } from '../model/linear.ts'
import { groupKey, quantizeModel, type QuantizedMatrix } from '../model/w8a8.ts'
import { makePlan, type MatvecPlan } from '../he/plan.ts'
import { DEFAULT_COST_MODEL, NETWORKS, planMatvec, predictPlan, type CostModel, type NetworkProfile, type PlanPrediction } from '../he/planner.ts'
import { RING_PRESETS } from '../he/params.ts'

/** Where a group runs. */
export type Placement = 'encrypted' | 'local'

/** Squeezing options; the defaults are the full squeeze. */
export interface SqueezeOptions {
  /** Fuse matrices that share an input (default true). */
  readonly fuse?: boolean
  /** Fold RMSNorm gains into the next matrices (default true). */
  readonly fold?: boolean
  /** 'auto' (default) places groups by cost; 'encrypt-all' encrypts every group. */
  readonly placement?: 'auto' | 'encrypt-all'
  /** The network the packing is planned for (default lan). */
  readonly network?: NetworkProfile
  readonly cost?: CostModel
  /** Use this n_i on the 2048 ring for every matrix instead of planning (the naive packing). */
  readonly fixedNi?: number
  /** ns per int8 multiply-accumulate of the user's local plaintext matvec (default 3, measured in Node here). */
  readonly localMacNs?: number
}

/** The naive plan the squeeze is measured against: no fusion, no folding, everything encrypted, one fixed packing. */
export const NAIVE: SqueezeOptions = Object.freeze({ fuse: false, fold: false, placement: 'encrypt-all', fixedNi: 32 })

/** Predicted cost of a group per token. */
export interface GroupPrediction {
  readonly userMs: number
  readonly minerMs: number
  readonly bytesUp: number
  readonly bytesDown: number
  /** user + miner + transfer + round trip (local groups: just the user's matvec). */
  readonly totalMs: number
}

/** One linear group, compiled. */
export interface SqueezedGroup {
  readonly group: LinearGroup
  readonly layer: number
  /** The matrices computed: one fused matrix, or one per output when not fused. */
  readonly matrices: readonly QuantizedMatrix[]
  /** Rows of each matrix that go to each request output, in order. */
  readonly outputRows: ReadonlyArray<readonly number[]>
  readonly placement: Placement
  /** Why it runs where it runs. */
  readonly reason: string
  /** The HE plan of each matrix (encrypted groups only). */
  readonly plans: ReadonlyArray<MatvecPlan | undefined>
  readonly predicted: GroupPrediction
  /** What the other placement would cost (for the report). */
  readonly alternative: GroupPrediction
}

/** A squeezed model: the forward pass's parameters and every linear group. */
export interface SqueezedModel {
  readonly params: TransformerParams
  readonly groups: ReadonlyMap<string, SqueezedGroup>
  readonly options: Required<Omit<SqueezeOptions, 'fixedNi' | 'cost'>> & { readonly fixedNi?: number }
}

function fuseMatrices (mats: readonly QuantizedMatrix[]): QuantizedMatrix {
  if (mats.length === 1) return mats[0]
  const cols = mats[0].cols
  const rows = mats.reduce((a, m) => a + m.rows, 0)
  const q = new Int8Array(rows * cols)
  const scale = new Float64Array(rows)
  let r = 0
  for (const m of mats) {
    q.set(m.q, r * cols)
    scale.set(m.scale, r)
    r += m.rows
  }
  return { rows, cols, q, scale }
}

function sum (ps: PlanPrediction[], network: NetworkProfile): GroupPrediction {
  const userMs = ps.reduce((a, p) => a + p.userMs, 0)
  const minerMs = ps.reduce((a, p) => a + p.minerMs, 0)
  const bytesUp = ps.reduce((a, p) => a + p.bytesUp, 0)
  const bytesDown = ps.reduce((a, p) => a + p.bytesDown, 0)
  // matrices of a group go out together: one round trip
  return { userMs, minerMs, bytesUp, bytesDown, totalMs: userMs + minerMs + ((bytesUp + bytesDown) / network.bandwidth) * 1000 + network.rttMs }
}

/**
 * Compile a checkpoint into a squeezed model.
 * @throws {HeParamsError} when a matrix cannot be encrypted with the available parameters.
 */
export function squeezeModel (ckpt: Checkpoint, opts: SqueezeOptions = {}): SqueezedModel {
  const fuse = opts.fuse ?? true
  const fold = opts.fold ?? true
  const placementMode = opts.placement ?? 'auto'
  const network = opts.network ?? NETWORKS.lan
  const cost = opts.cost ?? DEFAULT_COST_MODEL
  const localMacNs = opts.localMacNs ?? 3
  const quant = quantizeModel(ckpt, { foldNorms: fold })
  const groups = new Map<string, SqueezedGroup>()
  for (const { group, layer } of linearGroups(ckpt.config)) {
    const separate = quant.groups.get(groupKey(group, layer)) ?? []
    const matrices = fuse ? [fuseMatrices(separate)] : separate
    const outputRows = fuse ? [separate.map(m => m.rows)] : separate.map(m => [m.rows])
    const plans = matrices.map(m => (opts.fixedNi !== undefined
      ? makePlan(m.rows, m.cols, RING_PRESETS.n2048, Math.min(opts.fixedNi, m.cols))
      : planMatvec(m.rows, m.cols, { network, cost }).plan))
    const encrypted = sum(plans.map(p => predictPlan(p, network, cost)), network)
    const localMs = (matrices.reduce((a, m) => a + m.rows * m.cols, 0) * localMacNs) / 1e6
    const local: GroupPrediction = { userMs: localMs, minerMs: 0, bytesUp: 0, bytesDown: 0, totalMs: localMs }
    const userHoldsWeights = group === 'cls' && ckpt.config.sharedClassifier
    let placement: Placement = 'encrypted'
    let reason: string
    if (placementMode === 'encrypt-all') {
      reason = 'every group encrypted (naive plan)'
    } else if (!userHoldsWeights) {
      reason = 'its weights live only on the miners (the user does not download them)'
    } else if (local.totalMs < encrypted.totalMs) {
      placement = 'local'
      reason = `tied to the token embedding the user already holds; locally ${localMs.toFixed(2)} ms vs ${encrypted.totalMs.toFixed(1)} ms and ${((encrypted.bytesUp + encrypted.bytesDown) / 1024).toFixed(0)} KiB encrypted, and nothing leaves the user`
    } else {
      reason = `encrypted is predicted faster (${encrypted.totalMs.toFixed(1)} ms vs ${localMs.toFixed(2)} ms locally)`
    }
    groups.set(groupKey(group, layer), {
      group,
      layer,
      matrices,
      outputRows,
      placement,
      reason,
      plans: placement === 'encrypted' ? plans : matrices.map(() => undefined),
      predicted: placement === 'encrypted' ? encrypted : local,
      alternative: placement === 'encrypted' ? local : encrypted
    })
  }
  return {
    params: quant.params,
    groups,
    options: { fuse, fold, placement: placementMode, network, localMacNs, ...(opts.fixedNi === undefined ? {} : { fixedNi: opts.fixedNi }) }
  }
}

/** Predicted cost of one token (every group once). */
export function predictToken (sq: SqueezedModel): GroupPrediction {
  let userMs = 0
  let minerMs = 0
  let bytesUp = 0
  let bytesDown = 0
  let totalMs = 0
  for (const g of sq.groups.values()) {
    userMs += g.predicted.userMs
    minerMs += g.predicted.minerMs
    bytesUp += g.predicted.bytesUp
    bytesDown += g.predicted.bytesDown
    totalMs += g.predicted.totalMs
  }
  return { userMs, minerMs, bytesUp, bytesDown, totalMs }
}

/** The compiled group a forward-pass request refers to. */
export function groupFor (sq: SqueezedModel, group: LinearGroup, layer: number): SqueezedGroup {
  const g = sq.groups.get(groupKey(group, layer))
  if (g === undefined) throw new RangeError(`no linear group ${group} in layer ${layer}`)
  return g
}
