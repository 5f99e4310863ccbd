/**
 * The adversary of `bench privacy`: logistic regression on what a miner observes, scored
 * by cross-validation, and the ROC AUC of its out-of-fold scores with a bootstrap
 * confidence interval. Small and self-contained (no ML dependency): standardized features,
 * full-batch gradient descent on the L2-regularized log-loss, stratified k-fold.
 *
 * AUC = P(score of a random class-1 sample > score of a random class-0 sample), ties
 * counting half (the Mann–Whitney U statistic over n1·n0): 0.5 is chance, 1 is a perfect
 * separation. The interval resamples the scored samples with replacement (percentile
 * bootstrap; whole groups of related samples at a time), so it covers the test samples'
 * variability, not the training's.
 */
import { prng } from '../core/prng.ts'

/** Training of the logistic regression. */
export const LOGISTIC = Object.freeze({
  /** Gradient steps: the loss is convex and the features standardized, so a few hundred converge. */
  steps: 400,
  learningRate: 0.2,
  /** L2 penalty: keeps a model on a few dozen samples from fitting their noise. */
  l2: 0.05
})

/** A trained model: per-feature mean and scale (from its training set), weights and bias. */
export interface LogisticModel {
  readonly mean: Float64Array
  readonly scale: Float64Array
  readonly weights: Float64Array
  readonly bias: number
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z))

/** Fit a logistic regression of `labels` (0/1) on `rows` (one feature vector each). */
export function trainLogistic (rows: readonly Float64Array[], labels: readonly number[]): LogisticModel {
  const n = rows.length
  const d = rows[0]?.length ?? 0
  const mean = new Float64Array(d)
  const scale = new Float64Array(d)
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += r[j] / n
  for (const r of rows) for (let j = 0; j < d; j++) scale[j] += (r[j] - mean[j]) ** 2 / n
  // a constant feature carries nothing: scale 1 keeps it at 0 instead of dividing by 0
  for (let j = 0; j < d; j++) scale[j] = scale[j] > 1e-24 ? Math.sqrt(scale[j]) : 1
  const xs = rows.map(r => Float64Array.from(r, (v, j) => (v - mean[j]) / scale[j]))
  const w = new Float64Array(d)
  let b = 0
  const grad = new Float64Array(d)
  for (let step = 0; step < LOGISTIC.steps; step++) {
    grad.fill(0)
    let gb = 0
    for (let i = 0; i < n; i++) {
      let z = b
      for (let j = 0; j < d; j++) z += w[j] * xs[i][j]
      const e = sigmoid(z) - labels[i]
      for (let j = 0; j < d; j++) grad[j] += e * xs[i][j] / n
      gb += e / n
    }
    for (let j = 0; j < d; j++) w[j] -= LOGISTIC.learningRate * (grad[j] + LOGISTIC.l2 * w[j])
    b -= LOGISTIC.learningRate * gb
  }
  return { mean, scale, weights: w, bias: b }
}

/** The model's score (probability of class 1) for one feature vector. */
export function scoreOf (m: LogisticModel, row: Float64Array): number {
  let z = m.bias
  for (let j = 0; j < row.length; j++) z += m.weights[j] * (row[j] - m.mean[j]) / m.scale[j]
  return sigmoid(z)
}

/** ROC AUC of `scores` for 0/1 `labels` (Mann–Whitney, ties half). NaN when a class is empty. */
export function auc (scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b])
  // average ranks (1-based) over ties
  const rank = new Float64Array(idx.length)
  for (let i = 0; i < idx.length;) {
    let j = i
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++
    for (let k = i; k <= j; k++) rank[idx[k]] = (i + j) / 2 + 1
    i = j + 1
  }
  let n1 = 0
  let sum = 0
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) { n1++; sum += rank[i] }
  const n0 = labels.length - n1
  if (n1 === 0 || n0 === 0) return Number.NaN
  return (sum - n1 * (n1 + 1) / 2) / (n1 * n0)
}

/**
 * Out-of-fold scores: each sample scored by a model trained on the other folds. Samples of
 * one group (`groups[i]`, e.g. the two generations of a pair of prompts that share length
 * and seed) always share a fold: splitting near-twins of opposite labels across training and
 * test makes a model anti-learn (the held-out sample's twin in training carries the other
 * label), which drives a signal-free AUC well below ½. Groups are shuffled (seeded) and dealt
 * to folds in turn; without groups, every sample is its own group and folds are stratified.
 */
export function crossValidatedScores (rows: readonly Float64Array[], labels: readonly number[], folds: number, seed: number, groups?: readonly number[]): Float64Array {
  const rand = prng(seed)
  const shuffle = <T>(a: T[]): T[] => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[a[i], a[j]] = [a[j], a[i]]
    }
    return a
  }
  const fold = new Int32Array(rows.length)
  if (groups === undefined) {
    for (const cls of [0, 1]) shuffle(labels.flatMap((l, i) => (l === cls ? [i] : []))).forEach((m, k) => { fold[m] = k % folds })
  } else {
    const of = new Map(shuffle([...new Set(groups)]).map((g, k) => [g, k % folds]))
    groups.forEach((g, i) => { fold[i] = of.get(g) as number })
  }
  const scores = new Float64Array(rows.length)
  for (let f = 0; f < folds; f++) {
    const train = rows.flatMap((_, i) => (fold[i] === f ? [] : [i]))
    if (train.length === rows.length) continue // an empty fold (fewer groups than folds)
    const model = trainLogistic(train.map(i => rows[i]), train.map(i => labels[i]))
    for (let i = 0; i < rows.length; i++) if (fold[i] === f) scores[i] = scoreOf(model, rows[i])
  }
  return scores
}

/**
 * Out-of-fold scores averaged over `repeats` fold assignments (repeated k-fold): one fold
 * assignment of a few dozen groups can land lucky or unlucky; the average is steadier.
 */
export function repeatedCvScores (rows: readonly Float64Array[], labels: readonly number[], folds: number, repeats: number, seed: number, groups?: readonly number[]): Float64Array {
  const sum = new Float64Array(rows.length)
  for (let r = 0; r < repeats; r++) {
    const s = crossValidatedScores(rows, labels, folds, seed + 7919 * r, groups)
    for (let i = 0; i < s.length; i++) sum[i] += s[i] / repeats
  }
  return sum
}

/**
 * A percentile bootstrap interval of the AUC (`level` e.g. 0.95). With `groups`, whole
 * groups are resampled (a cluster bootstrap: the samples of a group are not independent).
 */
export function bootstrapAuc (scores: ArrayLike<number>, labels: ArrayLike<number>, reps: number, level: number, seed: number, groups?: readonly number[]): { low: number, high: number } {
  const rand = prng(seed)
  const members = new Map<number, number[]>()
  for (let i = 0; i < scores.length; i++) {
    const g = groups?.[i] ?? i
    members.set(g, [...(members.get(g) ?? []), i])
  }
  const clusters = [...members.values()]
  const values: number[] = []
  for (let r = 0; r < reps; r++) {
    const s: number[] = []
    const l: number[] = []
    for (let c = 0; c < clusters.length; c++) {
      for (const i of clusters[Math.floor(rand() * clusters.length)]) {
        s.push(scores[i])
        l.push(labels[i])
      }
    }
    const a = auc(s, l)
    if (!Number.isNaN(a)) values.push(a)
  }
  values.sort((a, b) => a - b)
  const at = (q: number): number => values[Math.min(values.length - 1, Math.max(0, Math.round(q * (values.length - 1))))]
  return { low: at((1 - level) / 2), high: at(1 - (1 - level) / 2) }
}

/**
 * The AUCs (repeated) cross-validation gives when there is nothing to find, on these very
 * samples: the labels shuffled within each group (so every group keeps its classes and its
 * structure), `reps` times. An observed AUC inside this distribution is what chance gives here.
 */
export function permutationNull (rows: readonly Float64Array[], labels: readonly number[], folds: number, repeats: number, reps: number, seed: number, groups?: readonly number[]): number[] {
  const rand = prng(seed)
  const members = new Map<number, number[]>()
  labels.forEach((_, i) => { const g = groups?.[i] ?? 0; members.set(g, [...(members.get(g) ?? []), i]) })
  const out: number[] = []
  for (let r = 0; r < reps; r++) {
    const shuffled = labels.slice()
    for (const idx of members.values()) {
      const own = idx.map(i => labels[i])
      for (let i = own.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1))
        ;[own[i], own[j]] = [own[j], own[i]]
      }
      idx.forEach((i, k) => { shuffled[i] = own[k] })
    }
    out.push(auc(repeatedCvScores(rows, shuffled, folds, repeats, seed + r, groups), shuffled))
  }
  return out.sort((a, b) => a - b)
}
