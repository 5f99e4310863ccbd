/**
 * The packing planner: for a matrix shape, pick the ring, the plaintext modulus and the
 * block split (n_i, n_o) that minimise the predicted latency of one encrypted matvec —
 * user compute + miner compute + bytes / bandwidth + a round trip — under a noise
 * constraint.
 *
 * The cost model is per operation and per ring degree, in microseconds, measured
 * ({@link calibrateCostModel}) rather than assumed; {@link DEFAULT_COST_MODEL} holds a
 * measurement from a development machine (Node 24, one thread) for planning without
 * calibrating first.
 */
import { HeParamsError } from './errors.ts'
import { blockSplit, plainBitsFor, resultPositions } from './packing.ts'
import { bestPackedPlan, packedTimes, type PackedCosts } from './packed-planner.ts'
import { SECURE_PRESETS, type RingPreset } from './params.ts'
import { makePlan, type MatvecPlan } from './plan.ts'
import { inputWireBytes, resultWireBytes } from './wire.ts'
import { MIN_NOISE_BUDGET_BITS } from './noise.ts'

/** A network between user and miner. */
export interface NetworkProfile {
  readonly name: string
  /** Bytes per second, each way. */
  readonly bandwidth: number
  /** Round-trip time in ms. */
  readonly rttMs: number
}

/**
 * The network profiles of `--network`. "lan" is what browser↔browser WebRTC streams
 * achieved on loopback here (2.5–5 MB/s); "wan" a typical home uplink.
 */
export const NETWORKS: Readonly<Record<'loopback' | 'lan' | 'wan', NetworkProfile>> = Object.freeze({
  loopback: Object.freeze({ name: 'loopback', bandwidth: 200e6, rttMs: 0.2 }),
  lan: Object.freeze({ name: 'lan', bandwidth: 4e6, rttMs: 2 }),
  wan: Object.freeze({ name: 'wan', bandwidth: 1e6, rttMs: 60 })
})

/** Microseconds per operation for one ring degree. */
export interface RingCosts {
  /** User: pack, encrypt (seeded) and serialize one input chunk. */
  readonly encryptChunk: number
  /** User: decode one result block (fixed part). */
  readonly decryptBlock: number
  /** User: decrypt one result position (a ternary convolution at one coefficient). */
  readonly decryptRow: number
  /** Miner: validate, load (expanding the seed) and NTT one input. */
  readonly loadInput: number
  /** Miner: one ciphertext × plaintext product and accumulation in the NTT domain. */
  readonly macProduct: number
  /** Miner: inverse NTT, modulus switch and serialize one result block. */
  readonly finishBlock: number
  /** The packed scheme's costs on this ring (its key-switching preset), when measured. */
  readonly packed?: PackedCosts
}

/** Costs per ring degree (keys are N). */
export type CostModel = Readonly<Record<number, RingCosts>>

/**
 * Measured on the development machine (2 cores, Node 24.21, one thread) with
 * `calibrateCostModel`, median of quiet runs (the packed scheme's: the 10th percentile of
 * 60–200 runs on a loaded box, which is the quiet-machine cost). Re-measure with
 * `npx cerberus bench he --calibrate`.
 */
export const DEFAULT_COST_MODEL: CostModel = Object.freeze({
  2048: Object.freeze({ encryptChunk: 520, decryptBlock: 65, decryptRow: 1.6, loadInput: 300, macProduct: 17, finishBlock: 230 }),
  4096: Object.freeze({ encryptChunk: 920, decryptBlock: 120, decryptRow: 3.2, loadInput: 560, macProduct: 35, finishBlock: 440, packed: Object.freeze({ encrypt: 700, decrypt: 1000, loadInput: 400, keySwitch: 730, ntt: 185, macProduct: 32, merge: 100, finish: 400, keyGenMs: 40 }) }),
  8192: Object.freeze({ encryptChunk: 1900, decryptBlock: 240, decryptRow: 6.4, loadInput: 1150, macProduct: 70, finishBlock: 1100 })
})

/** What a plan is predicted to cost (one job: all of its batch). */
export interface PlanPrediction {
  readonly scheme: 'coeff' | 'packed'
  readonly userMs: number
  readonly minerMs: number
  readonly bytesUp: number
  readonly bytesDown: number
  /** Galois key set bytes, sent once per session and parameter set (0 for 'coeff'). */
  readonly galoisKeyBytes: number
  /** Key switches per job (0 for 'coeff'). */
  readonly keySwitches: number
  readonly transferMs: number
  /** userMs + minerMs + transferMs + one round trip. */
  readonly totalMs: number
  /**
   * Predicted noise budget left (bits), before the check with SEAL; for 'packed', the
   * margin the noise bound promises after the result switch.
   */
  readonly noiseBudgetBits: number
}

/** A plan with its prediction. */
export interface PlannedMatvec {
  readonly plan: MatvecPlan
  readonly predicted: PlanPrediction
  /** With `scheme: 'auto'`: the best plan of each scheme considered, for explaining the choice. */
  readonly considered?: ReadonlyArray<{ readonly plan: MatvecPlan, readonly predicted: PlanPrediction }>
}

/**
 * Conservative noise estimate fitted to SEAL measurements (noise.ts) on worst-case data:
 * log2 q − log2 t − log2 N − 8 − ½·log2(chunks). It undershoots every measured case by
 * 1–3 bits; the chosen plan is then checked with SEAL itself.
 */
export function predictNoiseBudget (plan: MatvecPlan): number {
  const qBits = plan.params.preset.coeffBits.reduce((a, b) => a + b, 0)
  return qBits - plan.params.plainBits - Math.log2(plan.split.polyDegree) - 8 - 0.5 * Math.log2(plan.split.chunks)
}

/** Predict the cost of a plan on a network with a cost model. */
export function predictPlan (plan: MatvecPlan, network: NetworkProfile, cost: CostModel = DEFAULT_COST_MODEL): PlanPrediction {
  const s = plan.split
  const c = cost[s.polyDegree]
  if (c === undefined) throw new HeParamsError(`no cost model for N = ${s.polyDegree}`)
  if (plan.packed !== undefined) {
    if (c.packed === undefined) throw new HeParamsError(`no packed cost model for N = ${s.polyDegree}`)
    const { userMs, minerMs, counts } = packedTimes(plan, c.packed)
    const transferMs = ((counts.bytesUp + counts.bytesDown) / network.bandwidth) * 1000
    return { scheme: 'packed', userMs, minerMs, bytesUp: counts.bytesUp, bytesDown: counts.bytesDown, galoisKeyBytes: counts.galoisKeyBytes, keySwitches: counts.keySwitches, transferMs, totalMs: userMs + minerMs + transferMs + network.rttMs, noiseBudgetBits: plan.packed.widths.marginBits }
  }
  const T = plan.batch
  const primeBits = plan.params.preset.coeffBits[0]
  const bytesUp = T * s.chunks * inputWireBytes(s.polyDegree, primeBits)
  let bytesDown = 0
  for (let b = 0; b < s.blocks; b++) bytesDown += T * resultWireBytes(s.polyDegree, plan.resultBits, resultPositions(s, b).length)
  const userMs = T * (s.chunks * c.encryptChunk + s.blocks * c.decryptBlock + plan.dOut * c.decryptRow) / 1000
  const minerMs = T * (s.chunks * c.loadInput + s.chunks * s.blocks * c.macProduct + s.blocks * c.finishBlock) / 1000
  const transferMs = ((bytesUp + bytesDown) / network.bandwidth) * 1000
  return { scheme: 'coeff', userMs, minerMs, bytesUp, bytesDown, galoisKeyBytes: 0, keySwitches: 0, transferMs, totalMs: userMs + minerMs + transferMs + network.rttMs, noiseBudgetBits: predictNoiseBudget(plan) }
}

/** Options of {@link planMatvec}. */
export interface PlannerOptions {
  readonly network?: NetworkProfile
  readonly cost?: CostModel
  /** Ring presets to consider (default: the 128-bit ones). */
  readonly presets?: readonly RingPreset[]
  /** Consider only this n_i (a fixed split, for comparisons). */
  readonly nI?: number
  /**
   * Which scheme: 'coeff' (the default, today's plans; no keys), 'packed', or 'auto' — the
   * lower predicted latency of the two, with both in `considered`.
   */
  readonly scheme?: 'coeff' | 'packed' | 'auto'
  /** T: input vectors per job (default 1). */
  readonly batch?: number
  /** Packed plans: most input vectors per ciphertext (memory: packed-planner.ts, PackedSearch.maxVectors). */
  readonly maxVectors?: number
  /** Packed plans: consider only this orbit depth / this many vectors per ciphertext. */
  readonly orbitLevels?: number
  readonly vectors?: number
  /** The matrix (dOut × dIn, row-major): lets the packed noise bound be this matrix's own. */
  readonly weights?: Int8Array
  /** Packed plans: one t for all (one key set), e.g. the t of the widest d_in of a model. */
  readonly plainModulus?: number
  /** Presets for packed plans (default: the 128-bit key-switching ones). */
  readonly packedPresets?: readonly RingPreset[]
  /**
   * 'auto' charges each packed job the sending and making of its Galois keys divided by
   * this many jobs (default 64: a 64-token answer), so a session's one-time keys weigh in
   * (they decide small models, whose jobs are cheap either way).
   */
  readonly keyAmortizationJobs?: number
}

/**
 * The plan with the lowest predicted latency whose predicted noise budget is at least
 * {@link MIN_NOISE_BUDGET_BITS}.
 * @throws {HeParamsError} when no preset can hold the results of a dIn-wide dot product.
 */
export function planMatvec (dOut: number, dIn: number, opts: PlannerOptions = {}): PlannedMatvec {
  const scheme = opts.scheme ?? 'coeff'
  if (scheme === 'coeff') return planCoeff(dOut, dIn, opts)
  const network = opts.network ?? NETWORKS.lan
  const cost = opts.cost ?? DEFAULT_COST_MODEL
  const packedPlan = bestPackedPlan(dOut, dIn, { batch: opts.batch, presets: opts.packedPresets, weights: opts.weights, plainModulus: opts.plainModulus, nI: opts.nI, maxVectors: opts.maxVectors, orbitLevels: opts.orbitLevels, vectors: opts.vectors }, p => predictPlan(p, network, cost).totalMs)
  const packed = packedPlan === undefined ? undefined : { plan: packedPlan, predicted: predictPlan(packedPlan, network, cost) }
  if (scheme === 'packed') {
    if (packed === undefined) throw new HeParamsError(`no packed plan holds a ${dOut}×${dIn} job with enough noise margin`)
    return packed
  }
  const coeff = planCoeff(dOut, dIn, opts)
  const considered = packed === undefined ? [coeff] : [coeff, packed]
  const keyMs = packed === undefined ? 0 : amortizedKeyMs(packed.plan, packed.predicted, network, cost, opts.keyAmortizationJobs)
  const best = packed !== undefined && packed.predicted.totalMs + keyMs < coeff.predicted.totalMs ? packed : coeff
  return { ...best, considered }
}

/**
 * A packed plan's share of its Galois keys' cost: sending them once (and making them) spread
 * over `jobs` jobs of the session (default 64, as {@link planMatvec} assumes).
 */
export function amortizedKeyMs (plan: MatvecPlan, predicted: PlanPrediction, network: NetworkProfile, cost: CostModel = DEFAULT_COST_MODEL, jobs = 64): number {
  return ((predicted.galoisKeyBytes / network.bandwidth) * 1000 + (cost[plan.split.polyDegree]?.packed?.keyGenMs ?? 0)) / jobs
}

// The coefficient scheme's search (the planner's behaviour before the packed scheme).
function planCoeff (dOut: number, dIn: number, opts: PlannerOptions): PlannedMatvec {
  const network = opts.network ?? NETWORKS.lan
  const cost = opts.cost ?? DEFAULT_COST_MODEL
  const batch = opts.batch ?? 1
  const plainBits = plainBitsFor(dIn)
  let best: PlannedMatvec | undefined
  for (const preset of opts.presets ?? SECURE_PRESETS) {
    if (plainBits >= preset.coeffBits[0] - 2 || cost[preset.polyDegree] === undefined) continue
    const maxNi = Math.min(dIn, preset.polyDegree)
    let lastKey = ''
    for (let nI = opts.nI ?? 1; nI <= (opts.nI ?? maxNi); nI++) {
      // Many n_i give the same (chunks, n_o); keep the first of each.
      const s = blockSplit(dOut, dIn, preset.polyDegree, nI)
      const key = `${s.chunks}/${s.nO}`
      if (key === lastKey) continue
      lastKey = key
      const plan = makePlan(dOut, dIn, preset, nI, batch)
      const predicted = predictPlan(plan, network, cost)
      if (predicted.noiseBudgetBits < MIN_NOISE_BUDGET_BITS) continue
      if (best === undefined || predicted.totalMs < best.predicted.totalMs) best = { plan, predicted }
    }
  }
  if (best === undefined) throw new HeParamsError(`no parameters can hold a ${dIn}-wide int8 dot product with enough noise budget`)
  return best
}

/**
 * Into how many parts (1 or `miners`, at most `maxWays`) one job of `plan` is worth
 * splitting across miners. Each extra part saves miner time (the parts run at once) but
 * sends the whole input again: split only when the miner time saved beats the extra
 * upload at the network's bandwidth. On the `lan` profile (4 MB/s) no layer of a 768-dim
 * model qualifies (~30 ms of miner time against ~80 ms to send its inputs again); wide
 * layers of big models on fast links do.
 */
export function splitWays (plan: MatvecPlan, network: NetworkProfile, miners: number, maxWays = 2, cost: CostModel = DEFAULT_COST_MODEL): number {
  const p = predictPlan(plan, network, cost)
  let best = 1
  let bestMs = p.minerMs
  for (let k = 2; k <= Math.min(miners, maxWays, plan.split.blocks); k++) {
    const ms = p.minerMs / k + ((k - 1) * p.bytesUp * 1000) / network.bandwidth
    if (ms < bestMs) { best = k; bestMs = ms }
  }
  return best
}
