/**
 * Telling sessions apart from what a miner observes — the attacker's side of the
 * validators' disguise (issue 14): per-session features of the requests a miner saw
 * (counts, sizes, inter-arrival times), an L2-regularised logistic regression, its
 * cross-validated AUC (folds by session), and a bootstrap confidence interval.
 * Test code: small, dependency-free, deterministic given its seed.
 */
import { prng } from '../core/prng.ts'

/** One request as a miner saw it. */
export interface Observed {
  readonly session: string
  readonly bytes: number
  /** ms, any origin. */
  readonly at: number
}

/** A session's feature vector, with its label (1 = validator) and its group (the session). */
export interface Sample {
  readonly x: number[]
  readonly y: 0 | 1
  readonly group: string
}

/** Names of {@link features}' entries, in order. */
export const FEATURE_NAMES = ['log jobs', 'log bytes', 'distinct sizes', 'log mean gap', 'gap CV', 'burst share', 'log max gap', 'log duration'] as const

const log1p = (v: number): number => Math.log(1 + Math.max(0, v))

/** The features of one session's requests at one miner (sorted by arrival). */
export function features (reqs: readonly Observed[]): number[] {
  const r = [...reqs].sort((a, b) => a.at - b.at)
  const gaps = r.slice(1).map((q, i) => q.at - r[i].at)
  const mean = gaps.length === 0 ? 0 : gaps.reduce((a, b) => a + b, 0) / gaps.length
  const sd = gaps.length === 0 ? 0 : Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length)
  return [
    log1p(r.length),
    log1p(r.reduce((a, q) => a + q.bytes, 0)),
    new Set(r.map(q => q.bytes)).size,
    log1p(mean),
    mean === 0 ? 0 : sd / mean,
    gaps.length === 0 ? 0 : gaps.filter(g => g < 2).length / gaps.length, // jobs of one round arrive together
    log1p(Math.max(0, ...gaps)),
    log1p(r.length === 0 ? 0 : r[r.length - 1].at - r[0].at)
  ]
}

/** Fit w, b of p(y = 1 | x) = σ(w·x + b) on standardised features by gradient descent. */
function fit (train: readonly Sample[], lambda = 0.1, iters = 400, rate = 0.2): (x: number[]) => number {
  const d = train[0].x.length
  const mu = Array.from({ length: d }, (_, j) => train.reduce((a, s) => a + s.x[j], 0) / train.length)
  const sd = Array.from({ length: d }, (_, j) => Math.sqrt(train.reduce((a, s) => a + (s.x[j] - mu[j]) ** 2, 0) / train.length) || 1)
  const z = (x: number[]): number[] => x.map((v, j) => (v - mu[j]) / sd[j])
  const zs = train.map(s => ({ x: z(s.x), y: s.y }))
  const w = new Array<number>(d).fill(0)
  let b = 0
  for (let it = 0; it < iters; it++) {
    const gw = w.map(v => lambda * v)
    let gb = 0
    for (const s of zs) {
      const p = 1 / (1 + Math.exp(-(s.x.reduce((a, v, j) => a + v * w[j], b))))
      const e = (p - s.y) / zs.length
      for (let j = 0; j < d; j++) gw[j] += e * s.x[j]
      gb += e
    }
    for (let j = 0; j < d; j++) w[j] -= rate * gw[j]
    b -= rate * gb
  }
  return x => z(x).reduce((a, v, j) => a + v * w[j], b)
}

/** AUC of `scores` for `labels`: P(score of a 1 > score of a 0), ties counting half (Mann–Whitney). */
export function auc (scores: readonly number[], labels: ReadonlyArray<0 | 1>): number {
  let pairs = 0
  let wins = 0
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue
    for (let k = 0; k < scores.length; k++) {
      if (labels[k] !== 0) continue
      pairs++
      wins += scores[i] > scores[k] ? 1 : scores[i] === scores[k] ? 0.5 : 0
    }
  }
  return pairs === 0 ? 0.5 : wins / pairs
}

/** What {@link crossValidatedAuc} reports. */
export interface AucReport {
  readonly auc: number
  /** 95 % bootstrap interval over sessions. */
  readonly lo: number
  readonly hi: number
  /** Share of label permutations whose AUC reached `auc` (with the usual +1): small means "told apart". */
  readonly pNull: number
  readonly n: { readonly validator: number, readonly user: number }
}

/**
 * Out-of-fold scores: `folds` folds by session, stratified (each fold holds the same share
 * of each label: with unstratified folds, a fold short of one label trains an intercept
 * leaning to the other, which on null data drives the pooled AUC far below 0.5), averaged
 * over `repeats` shuffles of the folds.
 */
function outOfFold (samples: readonly Sample[], folds: number, repeats: number, rand: () => number): number[] {
  const score = new Array<number>(samples.length).fill(0)
  const labelOf = new Map(samples.map(s => [s.group, s.y]))
  const byLabel = [0, 1].map(y => [...labelOf].filter(([, l]) => l === y).map(([g]) => g))
  for (let rep = 0; rep < repeats; rep++) {
    const foldOf = new Map<string, number>()
    let next = 0
    for (const groups of byLabel) {
      for (let i = groups.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [groups[i], groups[j]] = [groups[j], groups[i]] }
      for (const g of groups) foldOf.set(g, next++ % folds)
    }
    for (let f = 0; f < folds; f++) {
      const train = samples.filter(s => foldOf.get(s.group) !== f)
      if (train.length === 0 || new Set(train.map(s => s.y)).size < 2) continue
      const model = fit(train)
      samples.forEach((s, i) => { if (foldOf.get(s.group) === f) score[i] += model(s.x) / repeats })
    }
  }
  return score
}

/**
 * The out-of-fold AUC of logistic regression on `samples` (`folds` folds, a session's
 * samples always in the same fold; scores averaged over `repeats` fold shuffles), a 95 %
 * interval from `boots` bootstrap resamplings of the sessions, and — from `permutations`
 * refits with the labels shuffled between sessions — how often a classifier reaches this
 * AUC by chance on data of this size (`pNull`).
 */
export function crossValidatedAuc (samples: readonly Sample[], opts: { folds?: number, repeats?: number, boots?: number, permutations?: number, seed?: number } = {}): AucReport {
  const rand = prng(opts.seed ?? 1)
  const groups = [...new Set(samples.map(s => s.group))]
  const folds = opts.folds ?? 5
  const repeats = opts.repeats ?? 5
  const score = outOfFold(samples, folds, repeats, rand)
  const labels = samples.map(s => s.y)
  const point = auc(score, labels)
  const byGroup = new Map<string, number[]>()
  samples.forEach((s, i) => { byGroup.set(s.group, [...(byGroup.get(s.group) ?? []), i]) })
  const boots: number[] = []
  for (let b = 0; b < (opts.boots ?? 1000); b++) {
    const idx = Array.from({ length: groups.length }, () => groups[Math.floor(rand() * groups.length)]).flatMap(g => byGroup.get(g) ?? [])
    boots.push(auc(idx.map(i => score[i]), idx.map(i => labels[i])))
  }
  boots.sort((a, b) => a - b)
  // the null: labels shuffled between sessions (a session keeps one label)
  const groupLabel = new Map(samples.map(s => [s.group, s.y]))
  let atLeast = 0
  const perms = opts.permutations ?? 50
  for (let p = 0; p < perms; p++) {
    const shuffled = [...groupLabel.values()]
    for (let i = shuffled.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]] }
    const relabel = new Map([...groupLabel.keys()].map((g, i) => [g, shuffled[i]]))
    const permuted = samples.map(s => ({ ...s, y: relabel.get(s.group) as 0 | 1 }))
    if (auc(outOfFold(permuted, folds, 1, rand), permuted.map(s => s.y)) >= point) atLeast++
  }
  return {
    auc: point,
    pNull: (atLeast + 1) / (perms + 1),
    lo: boots[Math.floor(0.025 * boots.length)],
    hi: boots[Math.floor(0.975 * boots.length)],
    n: { validator: new Set(samples.filter(s => s.y === 1).map(s => s.group)).size, user: new Set(samples.filter(s => s.y === 0).map(s => s.group)).size }
  }
}

/**
 * Each feature's own AUC (its value as the score, validators = 1): which feature tells the
 * classes apart when the regression does — 0.5 is none, far from 0.5 either way is a tell.
 */
export function featureAucs (samples: readonly Sample[]): Array<{ feature: string, auc: number, meanValidator: number, meanUser: number }> {
  const labels = samples.map(s => s.y)
  const mean = (y: 0 | 1, j: number): number => { const v = samples.filter(s => s.y === y).map(s => s.x[j]); return v.reduce((a, b) => a + b, 0) / Math.max(1, v.length) }
  return FEATURE_NAMES.map((feature, j) => ({ feature, auc: auc(samples.map(s => s.x[j]), labels), meanValidator: mean(1, j), meanUser: mean(0, j) }))
}
