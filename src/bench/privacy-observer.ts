/**
 * What a miner observes of a user's session, for `bench privacy`: every message she sends
 * it, sized as the frame that goes on the wire (the job protocol's encoding, as mesh-link.ts
 * frames it: the request with its session, job and matrix ids, plan and ciphertexts), when
 * it arrives, and which matrix it names — and the features an adversary would compute from
 * that per generation. The observer is a {@link MinerLink} in front of the real miner: one
 * miner that sees every job is the strongest position a miner can be in (a mesh splits the
 * jobs over several).
 */
import type { MinerLink } from '../core/engine/index.ts'
import { planToData, type MatvecPlan } from '../core/he/index.ts'
import { encodeMessage, frame } from '../core/protocol/index.ts'

/** One message as the miner saw it. */
export interface Observation {
  /** Arrival time, ms (performance.now). */
  readonly t: number
  /** The frame's size on the wire. */
  readonly bytes: number
  readonly kind: 'request' | 'keys'
  /** The matrix a request names ("qkv:3:0"); '' for keys. */
  readonly matrix: string
}

/** A link that records what its miner receives. */
export interface ObservedLink extends MinerLink {
  /** The observations since the last call, in arrival order. */
  take: () => Observation[]
}

/** Observe `inner` as the miner of session `session`. */
export function observedLink (inner: MinerLink, session: string): ObservedLink {
  const plans = new Map<string, MatvecPlan>()
  let seen: Observation[] = []
  let seq = 0
  return {
    name: inner.name,
    async prepare (id, plan, w) {
      plans.set(id, plan)
      return await inner.prepare(id, plan, w)
    },
    async compute (matrix, inputs, job, blocks) {
      const plan = plans.get(matrix)
      if (plan === undefined) throw new RangeError(`matrix ${matrix} was not prepared`)
      // the wire id is mesh-link's: the backend's job name and a per-link sequence number
      const bytes = frame(encodeMessage({ type: 'request', session, job: `${job}@${++seq}`, matrix, plan: planToData(plan), ...(blocks === undefined ? {} : { blocks }), ciphertexts: inputs })).byteLength
      seen.push({ t: performance.now(), bytes, kind: 'request', matrix })
      return await inner.compute(matrix, inputs, job, blocks)
    },
    async setKeys (plan, keys) {
      seen.push({ t: performance.now(), bytes: frame(encodeMessage({ type: 'keys', session, keys })).byteLength, kind: 'keys', matrix: '' })
      await inner.setKeys?.(plan, keys)
    },
    ...(inner.reject === undefined ? {} : { reject: inner.reject.bind(inner) }),
    take () {
      const out = seen
      seen = []
      return out
    },
    close () { inner.close?.() }
  }
}

/** The matrix kind of an id: "qkv:3:0" → "qkv". */
const kindOf = (matrix: string): string => matrix.slice(0, matrix.indexOf(':'))

/** Names of {@link minerFeatures}' entries, for `kinds` (the model's matrix kinds). */
export function featureNames (kinds: readonly string[]): string[] {
  return [
    'requests', 'requestBytes', 'keyFrames', 'sizeMean', 'sizeStd', 'distinctSizes',
    'durationMs', 'gapMean', 'gapStd', 'gapMedian', 'gapP90', 'gapMax',
    'quarterAt', 'halfAt', 'threeQuartersAt',
    ...kinds.map(k => `gapBefore:${k}`)
  ]
}

const quantile = (sorted: readonly number[], q: number): number => sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]

/**
 * The features of one generation's observations: counts and sizes; the gaps between
 * arrivals (their moments and quantiles); when the first quarter, half and three quarters
 * of the requests had arrived (as fractions of the duration: the shape of the timeline);
 * and the mean gap before requests of each matrix kind (the user's own work between
 * rounds: attention, sampling).
 */
export function minerFeatures (obs: readonly Observation[], kinds: readonly string[]): Float64Array {
  const req = obs.filter(o => o.kind === 'request')
  const sizes = req.map(o => o.bytes)
  const n = Math.max(1, sizes.length)
  const mean = sizes.reduce((a, b) => a + b, 0) / n
  const std = Math.sqrt(sizes.reduce((a, b) => a + (b - mean) ** 2, 0) / n)
  const gaps = req.slice(1).map((o, i) => o.t - req[i].t)
  const g = Math.max(1, gaps.length)
  const gapMean = gaps.reduce((a, b) => a + b, 0) / g
  const gapStd = Math.sqrt(gaps.reduce((a, b) => a + (b - gapMean) ** 2, 0) / g)
  const sorted = [...gaps].sort((a, b) => a - b)
  const t0 = req[0]?.t ?? 0
  const duration = (req[req.length - 1]?.t ?? 0) - t0
  const at = (q: number): number => duration > 0 ? ((req[Math.floor(q * (req.length - 1))]?.t ?? t0) - t0) / duration : 0
  const before = kinds.map(k => {
    const own = gaps.filter((_, i) => kindOf(req[i + 1].matrix) === k)
    return own.length === 0 ? 0 : own.reduce((a, b) => a + b, 0) / own.length
  })
  return Float64Array.from([
    req.length, sizes.reduce((a, b) => a + b, 0), obs.length - req.length, mean, std, new Set(sizes).size,
    duration, gapMean, gapStd, quantile(sorted, 0.5), quantile(sorted, 0.9), sorted[sorted.length - 1] ?? 0,
    at(0.25), at(0.5), at(0.75),
    ...before
  ])
}
