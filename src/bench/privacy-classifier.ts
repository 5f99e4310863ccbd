/**
 * The adversary of `bench privacy`: logistic regression on what a miner observes, scored
 * by cross-validation, and the ROC AUC of its out-of-fold scores with a bootstrap
 * confidence interval. Small and self-contained (no ML dependency): standardized features,
 * full-batch gradient descent on the L2-regularized log-loss, stratified k-fold.
 *
 * AUC = P(score of a random class-1 sample > score of a random class-0 sample), ties
 * counting half (the Mann–Whitney U statistic over n1·n0): 0.5 is chance, 1 is a perfect
 * separation. The interval resamples the (score, label) pairs with replacement (percentile
 * bootstrap), so it covers the test samples' variability, not the training's.
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
 * Out-of-fold scores: each sample scored by a model trained on the other folds (stratified:
 * each fold holds its share of both classes; seeded shuffle).
 */
export function crossValidatedScores (rows: readonly Float64Array[], labels: readonly number[], folds: number, seed: number): Float64Array {
  const rand = prng(seed)
  const fold = new Int32Array(rows.length)
  for (const cls of [0, 1]) {
    const members = labels.flatMap((l, i) => (l === cls ? [i] : []))
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[members[i], members[j]] = [members[j], members[i]]
    }
    members.forEach((m, k) => { fold[m] = k % folds })
  }
  const scores = new Float64Array(rows.length)
  for (let f = 0; f < folds; f++) {
    const train = rows.flatMap((_, i) => (fold[i] === f ? [] : [i]))
    const model = trainLogistic(train.map(i => rows[i]), train.map(i => labels[i]))
    for (let i = 0; i < rows.length; i++) if (fold[i] === f) scores[i] = scoreOf(model, rows[i])
  }
  return scores
}

/** A percentile bootstrap interval of the AUC (`level` e.g. 0.95). */
export function bootstrapAuc (scores: ArrayLike<number>, labels: ArrayLike<number>, reps: number, level: number, seed: number): { low: number, high: number } {
  const rand = prng(seed)
  const n = scores.length
  const s = new Float64Array(n)
  const l = new Float64Array(n)
  const values: number[] = []
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i++) {
      const k = Math.floor(rand() * n)
      s[i] = scores[k]
      l[i] = labels[k]
    }
    const a = auc(s, l)
    if (!Number.isNaN(a)) values.push(a)
  }
  values.sort((a, b) => a - b)
  const at = (q: number): number => values[Math.min(values.length - 1, Math.max(0, Math.round(q * (values.length - 1))))]
  return { low: at((1 - level) / 2), high: at(1 - (1 - level) / 2) }
}
