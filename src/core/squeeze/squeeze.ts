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
 *   for the network profile;
 * - **round fusion** (issue 12): a layer's output projection and the next matrix's
 *   projection of the residual come back from one job, 2 round trips per layer instead of
 *   4 for ~2× the miner's work (fused.ts, rounds.ts); chosen per network from the cost
 *   model, or forced.
 * The result says, per group, where it runs, why, and what it is predicted to cost.
 */
import type { Checkpoint } from '../model/checkpoint.ts'
import { UNFUSED, type ForwardLayout, type RoundGroup, type TransformerParams } from '../model/forward.ts'
import { linearGroups } from '../model/linear.ts'
import { groupKey, quantizeModel, type QuantizedMatrix, type W8A8Model } from '../model/w8a8.ts'
import { makePlan, planToData, type MatvecPlan } from '../he/plan.ts'
import { amortizedKeyMs, DEFAULT_COST_MODEL, NETWORKS, planMatvec, predictPlan, type CostModel, type NetworkProfile, type PlanPrediction } from '../he/planner.ts'
import { RING_PRESETS, SECURE_PACKED_PRESETS } from '../he/params.ts'
import { packedPlainModulus } from '../he/packed-params.ts'
import { HeParamsError } from '../he/errors.ts'
import { SqueezeOptionsError } from './errors.ts'
import { fusedProducts, quantizedProduct, stackMatrices } from './fused.ts'
import { parseMatrixId } from './matrix-id.ts'
import { rememberedPlan, type PlanMemo } from './plan-memo.ts'
import { chooseRounds, predictRounds, tokenRounds, type GroupPrediction, type RoundsChoice, type RoundsMode, type TokenPrediction } from './rounds.ts'

export type { GroupPrediction, RoundsChoice, RoundsMode, TokenPrediction } from './rounds.ts'

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
  /**
   * Round fusion: 'auto' (default: the layout predicted faster on `network`), 'unfused'
   * (4 round trips per layer) or 'fused' (2 per layer + 1; needs folded gains). Miners
   * serve both layouts from one squeeze (`squeezedMatrix`).
   */
  readonly rounds?: RoundsMode
  /**
   * The HE scheme per matrix: 'auto' (default: coefficient or packed, whichever the cost
   * model predicts faster — packed jobs carry their share of the session's Galois keys),
   * 'coeff' (no keys) or 'packed' (every matrix packed).
   */
  readonly scheme?: 'coeff' | 'packed' | 'auto'
  /**
   * Plan the built layout's packed matrices with their own noise bounds (default true; 0.3–1 s
   * per 768-wide matrix). False keeps the shape-only bound: for predictions only.
   */
  readonly exactPlans?: boolean
  /**
   * Batched prefill (issue 11): each packed matrix also gets a plan for one job of
   * `batch` prompt vectors, `vectors` per input ciphertext, near the one-vector plan's split
   * (one orbit level deeper where its own exact noise bound allows). Default {@link DEFAULT_PREFILL}; false: none
   * (a prompt's vectors go as one-vector jobs). Built only with exact plans.
   */
  readonly prefill?: PrefillOptions | false
  /**
   * Remembered exact-plan searches (plan-memo.ts): used where they hold, and filled with the
   * searches this squeeze makes. Only valid for the checkpoint and options it was filled
   * with — keep it under {@link planMemoKey}.
   */
  readonly memo?: PlanMemo
  /**
   * The checkpoint's W8A8 model, quantized already — by `quantizeModelAsync` where the
   * thread must stay live (a donor's tab) — with the gains folded as `fold` says.
   */
  readonly quantized?: W8A8Model
}

/**
 * The options one asks another thread's squeeze for (`HeUserClient.squeeze`, the worker's
 * `squeeze` message): {@link SqueezeOptions} without the state that thread holds itself —
 * its plan store's `memo` and its own `quantized` model.
 */
export type SqueezeRequestOptions = Omit<SqueezeOptions, 'memo' | 'quantized'>

/** The shape of batched prefill jobs. */
export interface PrefillOptions {
  /** T: prompt vectors per job (a prompt goes as ⌊T_prompt / T⌋ such jobs, the rest one by one). */
  readonly batch: number
  /**
   * v: vectors per input ciphertext. The orbit's key switches are shared by v vectors
   * (v = 4 at 768 dims: 0.49× a one-vector job's key switches per vector), but a miner
   * holds the prefill encoding at ≈ 8·v bytes per weight beside the one-vector encoding's 8.
   */
  readonly vectors: number
}

/** Batched prefill by default: jobs of 16 prompt vectors, 4 per ciphertext. */
export const DEFAULT_PREFILL: PrefillOptions = Object.freeze({ batch: 16, vectors: 4 })

/**
 * A coefficient-encoded matrix (no key switching for one vector) may still take its prompt's
 * vectors as one packed job — N = 4096, up to `batch` vectors per ciphertext, the session's
 * Galois keys — where that is predicted cheaper: at stories260K's 64–344-row matrices 16
 * vectors cost ≈ 0.1–0.15× of 16 coefficient jobs and ≈ 1/10 of their bytes. Its prefill
 * encoding is ≈ 8·v bytes per weight, so v is capped to keep it within this many bytes per
 * matrix (v < 2: none; a 768 × 768 matrix gets none).
 */
export const COEFF_PREFILL_ENCODING_BYTES = 4 * 2 ** 20

/** The naive plan the squeeze is measured against: no fusion, no folding, everything encrypted, one fixed packing. */
export const NAIVE: SqueezeOptions = Object.freeze({ fuse: false, fold: false, placement: 'encrypt-all', fixedNi: 32 })

/** One linear group, compiled. */
export interface SqueezedGroup {
  readonly group: RoundGroup
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
  /**
   * Per matrix, the plan of a batched prefill job ({@link PrefillOptions}), where one
   * holds (packed plans); absent or undefined: prompt vectors go one by one.
   */
  readonly prefillPlans?: ReadonlyArray<MatvecPlan | undefined>
  /**
   * Per matrix with a prefill plan: the fewest real vectors for which one batch padded with
   * zero vectors is predicted cheaper than that many one-vector jobs — a round's vectors left
   * after its full batches go as such a batch from this many (a short prompt too).
   */
  readonly prefillFrom?: ReadonlyArray<number | undefined>
  readonly predicted: GroupPrediction
  /** What the other placement would cost (for the report). */
  readonly alternative: GroupPrediction
}

/** A squeezed model: the forward pass's parameters and every linear group its layout uses. */
export interface SqueezedModel {
  readonly params: TransformerParams
  /** The groups of `layout`, in round order, by {@link groupKey}. */
  readonly groups: ReadonlyMap<string, SqueezedGroup>
  /** How the forward pass groups its linear layers into rounds. */
  readonly layout: ForwardLayout
  /** Fused or unfused, why, and what both cost per token. */
  readonly rounds: RoundsChoice
  /**
   * The layout not built into `groups` (absent when it cannot be: gains not folded). It
   * shares every matrix both layouts use, and the fused products are computed only when
   * read, so one squeeze lets a miner serve users of either layout (`squeezedMatrix`).
   */
  readonly otherLayout?: { readonly layout: ForwardLayout, readonly groups: ReadonlyMap<string, SqueezedGroup> }
  readonly options: Required<Omit<SqueezeOptions, 'fixedNi' | 'cost' | 'memo' | 'quantized'>> & { readonly fixedNi?: number }
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
 * @throws {SqueezeOptionsError} when round fusion is forced without folded gains.
 */
export function squeezeModel (ckpt: Checkpoint, opts: SqueezeOptions = {}): SqueezedModel {
  const fuse = opts.fuse ?? true
  const fold = opts.fold ?? true
  const placementMode = opts.placement ?? 'auto'
  const network = opts.network ?? NETWORKS.lan
  const cost = opts.cost ?? DEFAULT_COST_MODEL
  const localMacNs = opts.localMacNs ?? 3
  const roundsMode = opts.rounds ?? 'auto'
  if (roundsMode === 'fused' && !fold) throw new SqueezeOptionsError('round fusion needs the RMSNorm gains folded into the matrices: drop fold: false, or use rounds: \'unfused\'')
  const c = ckpt.config
  if (opts.quantized !== undefined && opts.quantized.foldedNorms !== fold) throw new SqueezeOptionsError(`the quantized model given was made with fold ${String(opts.quantized.foldedNorms)}, the squeeze asks for fold ${String(fold)}`)
  const quant = opts.quantized ?? quantizeModel(ckpt, { foldNorms: fold })
  // Packed plans share one plaintext modulus (that of the widest input), so a session needs
  // one Galois key set. Their noise bound is the matrix's own (measured from its weights:
  // deeper input orbits, fewer bytes), so a packed plan is per matrix; coefficient plans
  // depend only on the shape.
  const scheme = opts.scheme ?? 'auto'
  const packedT = packedPlainModulus(Math.max(c.dim, c.hiddenDim), SECURE_PACKED_PRESETS[0].polyDegree)
  // Measuring a matrix's own noise costs 0.3–1 s for a 768-wide one, so layouts are first
  // compared with shape-only plans (the bound for any int8 matrix: conservative), and only
  // the layout built is then planned with its matrices' own bounds.
  const byShape = new Map<string, MatvecPlan>()
  const byMatrix = new WeakMap<QuantizedMatrix, MatvecPlan>()
  const planFor = (m: QuantizedMatrix, exact: boolean): MatvecPlan => {
    if (opts.fixedNi !== undefined) return makePlan(m.rows, m.cols, RING_PRESETS.n2048, Math.min(opts.fixedNi, m.cols))
    const key = `${m.rows}x${m.cols}`
    const withWeights = exact && scheme !== 'coeff'
    let p = withWeights ? byMatrix.get(m) : byShape.get(key)
    if (p === undefined) {
      p = planMatvec(m.rows, m.cols, { network, cost, scheme, ...(scheme === 'coeff' ? {} : { plainModulus: packedT }), ...(withWeights ? { weights: m.q } : {}) }).plan
      if (withWeights) byMatrix.set(m, p)
      else byShape.set(key, p)
    }
    return p
  }
  // One group from its matrices in request-output order (stacked when fusing).
  const compile = (group: RoundGroup, layer: number, separate: readonly QuantizedMatrix[], exact = false): SqueezedGroup => {
    const matrices = fuse ? [stackMatrices(separate)] : [...separate]
    const outputRows = fuse ? [separate.map(m => m.rows)] : separate.map(m => [m.rows])
    const matPlans = matrices.map(m => planFor(m, exact))
    const encrypted = sum(matPlans.map(p => predictPlan(p, network, cost)), network)
    const localMs = (matrices.reduce((a, m) => a + m.rows * m.cols, 0) * localMacNs) / 1e6
    const local: GroupPrediction = { userMs: localMs, minerMs: 0, bytesUp: 0, bytesDown: 0, totalMs: localMs }
    const userHoldsWeights = group === 'cls' && c.sharedClassifier
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
    return {
      group,
      layer,
      matrices,
      outputRows,
      placement,
      reason,
      plans: placement === 'encrypted' ? matPlans : matrices.map(() => undefined),
      predicted: placement === 'encrypted' ? encrypted : local,
      alternative: placement === 'encrypted' ? local : encrypted
    }
  }
  const separate = (group: RoundGroup, layer: number): readonly QuantizedMatrix[] => quant.groups.get(groupKey(group, layer)) ?? []
  // A packed matrix's batched prefill plan, or undefined. An orbit's key switches are shared
  // by the v vectors of a ciphertext, so a batch pays for a deeper orbit than one vector
  // does (fewer merges: 0.49× the one-vector plan's key switches per vector at 768 dims
  // against 0.78× at the same depth). Tried in order, the first whose exact noise bound
  // holds: one level deeper; half the chunk width (twice the upload); the one-vector
  // plan's split — each with v vectors per ciphertext, then v/2. One exact check is
  // 0.3–2.6 s for a 768-wide matrix, so the search stops at the first that holds.
  const prefill = opts.prefill ?? DEFAULT_PREFILL
  const prefillPlans = new WeakMap<QuantizedMatrix, MatvecPlan | undefined>()
  // A coefficient matrix's packed prefill plan: the most vectors per ciphertext whose exact
  // bound holds within the encoding cap, kept only when predicted cheaper than `batch`
  // one-vector jobs with the Galois keys' cost spread as the planner spreads it.
  const coeffPrefillFor = (m: QuantizedMatrix, one: MatvecPlan, batch: number): MatvecPlan | undefined => {
    const cap = Math.min(batch, Math.floor(COEFF_PREFILL_ENCODING_BYTES / (8 * m.rows * m.cols)))
    let p: MatvecPlan | undefined
    for (let v = cap < 2 ? 0 : 2 ** Math.floor(Math.log2(cap)); v >= 2 && p === undefined; v /= 2) {
      try {
        p = planMatvec(m.rows, m.cols, { network, cost, scheme: 'packed', plainModulus: packedT, weights: m.q, batch, vectors: v, maxVectors: v }).plan
      } catch (err) {
        if (!(err instanceof HeParamsError)) throw err
      }
    }
    if (p === undefined) return undefined
    const pp = predictPlan(p, network, cost)
    return pp.totalMs + amortizedKeyMs(p, pp, network, cost) < batch * predictPlan(one, network, cost).totalMs ? p : undefined
  }
  const prefillFor = (m: QuantizedMatrix, one: MatvecPlan): MatvecPlan | undefined => {
    if (prefill === false || prefill.batch < 2) return undefined
    if (prefillPlans.has(m)) return prefillPlans.get(m)
    const L = one.packed?.layout
    if (L === undefined) {
      const c = coeffPrefillFor(m, one, prefill.batch)
      prefillPlans.set(m, c)
      return c
    }
    const n = L.polyDegree
    const splits = [[L.nI, L.orbitLevels + 1], [L.nI / 2, L.orbitLevels], [L.nI, L.orbitLevels]].filter(([nI, b]) => nI >= 64 && Math.log2(n / nI) + b <= Math.log2(n))
    let p: MatvecPlan | undefined
    for (let v = Math.min(prefill.vectors, prefill.batch); v >= 2 && p === undefined; v /= 2) {
      for (const [nI, b] of splits) {
        if (v > n / nI) continue
        try {
          p = planMatvec(m.rows, m.cols, { network, cost, scheme: 'packed', plainModulus: packedT, weights: m.q, batch: prefill.batch, nI, orbitLevels: b, vectors: v }).plan
          break
        } catch (err) {
          if (!(err instanceof HeParamsError)) throw err
        }
      }
    }
    prefillPlans.set(m, p)
    return p
  }
  // A search with the matrix's own weights, or what `opts.memo` remembers of it.
  const memo = opts.memo
  const recall = (key: string, m: QuantizedMatrix, search: () => MatvecPlan | undefined): MatvecPlan | undefined => {
    const known = rememberedPlan(memo, key, m.rows, m.cols)
    if (known !== undefined) return known ?? undefined
    const p = search()
    memo?.set(key, p === undefined ? null : planToData(p))
    return p
  }
  // A compiled group's plans again with its matrices' own bounds (placement decided already).
  const compileExact = (g: SqueezedGroup): SqueezedGroup => {
    if (g.placement !== 'encrypted') return g
    const key = `${groupKey(g.group, g.layer)}#`
    // (a matrix always has a plan: a remembered "none" for one is searched for again)
    const plans = g.matrices.map((m, k) => recall(key + String(k), m, () => planFor(m, true)) ?? planFor(m, true))
    const encrypted = sum(plans.map(p => predictPlan(p, network, cost)), network)
    const batched = plans.map((p, k) => recall(`${key}${k}+prefill`, g.matrices[k], () => prefillFor(g.matrices[k], p)))
    const from = batched.map((pre, k) => pre === undefined ? undefined : Math.max(2, Math.ceil(predictPlan(pre, network, cost).totalMs / predictPlan(plans[k], network, cost).totalMs)))
    return { ...g, plans, predicted: encrypted, ...(batched.some(p => p !== undefined) ? { prefillPlans: batched, prefillFrom: from } : {}) }
  }
  const unfused = new Map<string, SqueezedGroup>()
  for (const { group, layer } of linearGroups(c)) unfused.set(groupKey(group, layer), compile(group, layer, separate(group, layer)))
  const unfusedPrediction = predictRounds(unfused, tokenRounds(c, UNFUSED), network)
  let fused: { groups: Map<string, SqueezedGroup>, layout: ForwardLayout, predicted: TokenPrediction } | undefined
  if (fold) {
    // The fused layout: the shared groups as compiled above, plus the product groups.
    const layout: ForwardLayout = { rounds: 'fused', classifierInLastRound: unfused.get(groupKey('cls', -1))?.placement === 'encrypted' }
    const groups = new Map<string, SqueezedGroup>()
    const product = (group: 'o-up' | 'down-qkv' | 'cls-down', layer: number, first: QuantizedMatrix[]): SqueezedGroup =>
      compile(group, layer, [...first, ...fusedProducts(c, group, layer).map(p => quantizedProduct(ckpt, p))])
    for (const round of tokenRounds(c, layout)) {
      for (const { group, layer } of round) {
        const key = groupKey(group, layer)
        if (group === 'o-up') groups.set(key, product(group, layer, [...separate('o', layer)]))
        else if (group === 'down-qkv') groups.set(key, product(group, layer, [...separate('down', layer)]))
        else if (group === 'cls-down') groups.set(key, product(group, layer, []))
        else groups.set(key, unfused.get(key) as SqueezedGroup)
      }
    }
    fused = { groups, layout, predicted: predictRounds(groups, tokenRounds(c, layout), network) }
  }
  let rounds = chooseRounds(roundsMode, network, unfusedPrediction, fused?.predicted)
  const plain = { groups: unfused, layout: UNFUSED }
  let built: { groups: Map<string, SqueezedGroup>, layout: ForwardLayout } = rounds.chosen === 'fused' && fused !== undefined ? fused : plain
  if (scheme !== 'coeff' && opts.fixedNi === undefined && opts.exactPlans !== false) {
    // The layout built, planned again with each matrix's own noise bound (packed plans get
    // deeper input orbits: fewer bytes). Its groups' matrices are the same objects.
    const exact = new Map<string, SqueezedGroup>()
    for (const [key, g] of built.groups) exact.set(key, compileExact(g))
    built = { groups: exact, layout: built.layout }
    // the built layout's prediction is now its exact one (the other keeps its shape-only bound)
    rounds = { ...rounds, predicted: { ...rounds.predicted, [rounds.chosen]: predictRounds(exact, tokenRounds(c, built.layout), network) } }
  }
  const other = rounds.chosen === 'fused' && fused !== undefined ? plain : fused
  return {
    params: quant.params,
    groups: built.groups,
    layout: built.layout,
    rounds,
    ...(other === undefined ? {} : { otherLayout: { layout: other.layout, groups: other.groups } }),
    options: { fuse, fold, placement: placementMode, network, localMacNs, rounds: roundsMode, scheme, exactPlans: opts.exactPlans ?? true, prefill, ...(opts.fixedNi === undefined ? {} : { fixedNi: opts.fixedNi }) }
  }
}

/** Predicted cost of one token of the built layout (every round once). */
export function predictToken (sq: SqueezedModel): TokenPrediction {
  return predictRounds(sq.groups, tokenRounds(sq.params.config, sq.layout), sq.options.network)
}

/** The compiled group a forward-pass request refers to. */
export function groupFor (sq: SqueezedModel, group: RoundGroup, layer: number): SqueezedGroup {
  const g = sq.groups.get(groupKey(group, layer))
  if (g === undefined) throw new RangeError(`no linear group ${group} in layer ${layer}`)
  return g
}

/**
 * The matrix a job's id names (see matrix-id.ts), in either layout, or undefined when this
 * squeeze has none (an unknown id, or another fusion/folding choice: the shape check
 * against the job's plan catches those).
 */
export function squeezedMatrix (sq: SqueezedModel, id: string): QuantizedMatrix | undefined {
  const p = parseMatrixId(id)
  if (p === undefined) return undefined
  const key = groupKey(p.group, p.layer)
  return (sq.groups.get(key) ?? sq.otherLayout?.groups.get(key))?.matrices[p.index]
}
