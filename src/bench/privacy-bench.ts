/**
 * `bench privacy`: can a miner tell what a user asks from what it observes? (issue 16)
 *
 * Real SEAL, the real engine and pipeline (createPrivateGeneration), the miner in-process
 * behind an observer that sizes every message as its frame on the wire (privacy-observer.ts)
 * and one miner seeing every job — the strongest position a miner can be in. For many
 * generations of pairs of prompts with the same token count but different content (animals
 * against children; each pair the same length, so only content differs between the
 * classes), a logistic regression on the observed sizes, counts and timing is scored by
 * cross-validation; its AUC and a bootstrap interval are the answer (goal ≤ 0.55: a miner
 * does little better than a coin).
 *
 * Two experiments in the same run say what the classifier can do and what padding does:
 * the **control** separates prompts of different token counts (11 against 18: lengths are
 * visible, so its AUC is the baseline a working adversary reaches), and **padded** repeats
 * the control with length padding to buckets of `padTo` tokens. Generations of the two
 * classes alternate in a seeded random order, so that the machine's drift is shared.
 */
import { createPrivateGeneration, promptTokens, type GenerationModel } from '../app/index.ts'
import { localHe } from '../core/engine/index.ts'
import { NETWORKS, type Seal } from '../core/he/index.ts'
import { CerberusError } from '../core/errors.ts'
import { prng } from '../core/prng.ts'
import { auc as aucOf, bootstrapAuc, permutationNull, repeatedCvScores } from './privacy-classifier.ts'
import { featureNames, minerFeatures, observedLink } from './privacy-observer.ts'

/** Pairs of prompts with the same token count on stories260K (checked at run time): animals | children. */
export const CONTENT_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['The dog ran in the park', 'Tom went to the shop'],
  ['The duck swam on the lake', 'Ben ate a big red apple'],
  ['A bee flew to the flower', 'Jack kicked the ball far'],
  ['A bird sang in the tree', 'Sam found a shiny coin'],
  ['The cow ate the green grass', 'Anna read a book with dad'],
  ['The horse ran across the field', 'Mia baked a cake with grandma']
]

/** The control's classes: prompts of 11 tokens against prompts of 18 (lengths are visible). */
export const CONTROL_CLASSES: readonly [readonly string[], readonly string[]] = [
  ['The dog ran in the park', 'Tom went to the shop'],
  ['The horse ran across the field', 'Mia baked a cake with grandma']
]

/** Defaults and bounds of the benchmark. */
export const PRIVACY_BENCH = Object.freeze({
  /**
   * Generations per class of the content experiment: 100 + 100 (~5 min here) put the 95%
   * interval at about ±0.1; 40 + 40 leave chance alone spanning 0.37–0.66 (measured).
   */
  generations: 100,
  /** Generations per class of the control and padded experiments (their answer is near 1 or ½ plainly). */
  controlGenerations: 20,
  /** New tokens per answer: short, so an answer rarely ends early (its length would show). */
  answerTokens: 8,
  /** The padding bucket of the padded experiment (the 32 tokens). */
  padTo: 32,
  folds: 5,
  /** Fold assignments averaged (repeated k-fold). */
  repeats: 3,
  bootstrap: 2000,
  /** Label shuffles for the chance distribution of the AUC (a p-value to 1/100). */
  permutations: 100,
  level: 0.95,
  /** The goal for the content experiment's AUC. */
  goal: 0.55
})

/** Options of {@link runPrivacyBench}. */
export interface PrivacyBenchOptions {
  readonly seal: Seal
  readonly model: GenerationModel
  /** Per class, content experiment (default 100); the control and padded experiments run at most controlGenerations. */
  readonly generations?: number
  readonly answerTokens?: number
  readonly padTo?: number
  readonly onProgress?: (line: string) => void
}

/** One experiment: which classes, how many generations, and how well the miner told them apart. */
export interface PrivacyExperiment {
  readonly question: string
  readonly perClass: number
  /** Token counts of each class's prompts. */
  readonly promptTokens: readonly [readonly number[], readonly number[]]
  readonly padTo: number | null
  readonly auc: number
  readonly aucLow: number
  readonly aucHigh: number
  /**
   * What chance gives with these samples (labels shuffled within each pair of generations):
   * its mean and 95th percentile, and the share of shuffles at or above `auc` (a p-value).
   */
  readonly nullMean: number
  readonly nullP95: number
  readonly pValue: number
  /** Requests a generation sent, fewest and most (lengths show here unless padded). */
  readonly requests: readonly [number, number]
  /** Answers that ended before answerTokens (their length is visible unless padded). */
  readonly earlyStops: number
  readonly ms: number
  /** Every generation's class (0, 1) and features (the report's `features`), for a second look. */
  readonly samples: ReadonlyArray<{ readonly label: number, readonly features: readonly number[] }>
}

/** The report: `auc`, `aucLow`, `aucHigh` are the content experiment's. */
export interface PrivacyReport {
  readonly auc: number
  readonly aucLow: number
  readonly aucHigh: number
  readonly goal: number
  readonly meetsGoal: boolean
  /** The content experiment's advantage over chance as a share of the control's: max(0, auc − ½) / (control − ½). */
  readonly advantageVsControl: number
  readonly level: number
  readonly folds: number
  readonly repeats: number
  readonly bootstrap: number
  readonly answerTokens: number
  readonly features: readonly string[]
  readonly content: PrivacyExperiment
  readonly control: PrivacyExperiment
  readonly padded: PrivacyExperiment
  readonly ms: number
}

interface Ctx {
  readonly seal: Seal
  readonly model: GenerationModel
  readonly answerTokens: number
  readonly progress: (line: string) => void
}

async function experiment (ctx: Ctx, name: string, question: string, classes: readonly [readonly string[], readonly string[]], perClass: number, padTo: number | undefined, seed: number): Promise<PrivacyExperiment & { rows: Float64Array[], labels: number[], kinds: string[] }> {
  const t0 = performance.now()
  const { session, miner } = localHe(ctx.seal)
  const link = observedLink(miner, `privacy-${name}`)
  const gen = await createPrivateGeneration(ctx.model, { session, miners: link }, { network: NETWORKS.loopback, ...(padTo === undefined ? {} : { padTo }) })
  const kinds = [...new Set([...gen.squeezed.groups.values()].filter(g => g.placement === 'encrypted').map(g => g.group))]
  const rows: Float64Array[] = []
  const labels: number[] = []
  // the two generations of one iteration share a prompt length and a seed: one group
  const groups: number[] = []
  let earlyStops = 0
  const once = async (label: number, i: number): Promise<Float64Array> => {
    link.take()
    const receipt = await gen.generate(classes[label][i % classes[label].length], { temperature: 0.8, topp: 0.9, seed: i + 1, maxTokens: ctx.answerTokens })
    if (receipt.tokens < ctx.answerTokens) earlyStops++
    return minerFeatures(link.take(), kinds)
  }
  try {
    // warm-up (the JIT, SEAL's first keys): one of each, not counted
    await once(0, 0)
    await once(1, 0)
    earlyStops = 0
    const order = prng(seed)
    for (let i = 0; i < perClass; i++) {
      for (const label of order() < 0.5 ? [0, 1] : [1, 0]) {
        rows.push(await once(label, i))
        labels.push(label)
        groups.push(i)
      }
      if ((i + 1) % Math.max(1, Math.floor(perClass / 4)) === 0) ctx.progress(`${name}: ${i + 1}/${perClass} generations per class`)
    }
  } finally {
    await gen.close()
    session.close?.()
    miner.close?.()
  }
  const scores = repeatedCvScores(rows, labels, PRIVACY_BENCH.folds, PRIVACY_BENCH.repeats, seed, groups)
  const a = aucOf(scores, labels)
  const ci = bootstrapAuc(scores, labels, PRIVACY_BENCH.bootstrap, PRIVACY_BENCH.level, seed + 1, groups)
  const chance = permutationNull(rows, labels, PRIVACY_BENCH.folds, PRIVACY_BENCH.repeats, PRIVACY_BENCH.permutations, seed + 2, groups)
  const requests = rows.map(r => r[0])
  return {
    question,
    perClass,
    promptTokens: [classes[0].map(p => promptTokens(ctx.model.tokenizer, p).length), classes[1].map(p => promptTokens(ctx.model.tokenizer, p).length)],
    padTo: padTo ?? null,
    auc: a,
    aucLow: ci.low,
    aucHigh: ci.high,
    nullMean: chance.reduce((x, y) => x + y, 0) / chance.length,
    nullP95: chance[Math.floor(0.95 * (chance.length - 1))],
    pValue: chance.filter(v => v >= a).length / chance.length,
    requests: [Math.min(...requests), Math.max(...requests)],
    earlyStops,
    ms: performance.now() - t0,
    samples: rows.map((r, i) => ({ label: labels[i], features: [...r] })),
    rows,
    labels,
    kinds
  }
}

/** The prompt pairs do not have equal token counts with this model's tokenizer. */
export class PrivacyPromptsError extends CerberusError {
  constructor (message: string) {
    super('PRIVACY_PROMPTS', message)
  }
}

const strip = (e: PrivacyExperiment): PrivacyExperiment => ({
  question: e.question, perClass: e.perClass, promptTokens: e.promptTokens, padTo: e.padTo, auc: e.auc, aucLow: e.aucLow, aucHigh: e.aucHigh, nullMean: e.nullMean, nullP95: e.nullP95, pValue: e.pValue, requests: e.requests, earlyStops: e.earlyStops, ms: e.ms, samples: e.samples
})

/** Run the three experiments. */
export async function runPrivacyBench (opts: PrivacyBenchOptions): Promise<PrivacyReport> {
  const t0 = performance.now()
  const tok = opts.model.tokenizer
  for (const [a, b] of CONTENT_PAIRS) {
    const na = promptTokens(tok, a).length
    const nb = promptTokens(tok, b).length
    if (na !== nb) throw new PrivacyPromptsError(`the content pair "${a}" / "${b}" has ${na} and ${nb} tokens with this tokenizer; the benchmark needs equal counts (it is written for stories260K)`)
  }
  const ctx: Ctx = { seal: opts.seal, model: opts.model, answerTokens: opts.answerTokens ?? PRIVACY_BENCH.answerTokens, progress: opts.onProgress ?? (() => {}) }
  const n = opts.generations ?? PRIVACY_BENCH.generations
  const half = Math.min(n, PRIVACY_BENCH.controlGenerations)
  const padTo = opts.padTo ?? PRIVACY_BENCH.padTo
  const classes: [string[], string[]] = [CONTENT_PAIRS.map(p => p[0]), CONTENT_PAIRS.map(p => p[1])]
  const content = await experiment(ctx, 'content', 'animals or children? (pairs of prompts with the same token count)', classes, n, undefined, 11)
  const control = await experiment(ctx, 'control', 'an 11- or an 18-token prompt? (no padding: lengths are visible)', CONTROL_CLASSES, half, undefined, 21)
  const padded = await experiment(ctx, 'padded', `an 11- or an 18-token prompt, padded to buckets of ${padTo}?`, CONTROL_CLASSES, half, padTo, 31)
  return {
    auc: content.auc,
    aucLow: content.aucLow,
    aucHigh: content.aucHigh,
    goal: PRIVACY_BENCH.goal,
    meetsGoal: content.auc <= PRIVACY_BENCH.goal,
    advantageVsControl: Math.max(0, content.auc - 0.5) / (control.auc - 0.5),
    level: PRIVACY_BENCH.level,
    folds: PRIVACY_BENCH.folds,
    repeats: PRIVACY_BENCH.repeats,
    bootstrap: PRIVACY_BENCH.bootstrap,
    answerTokens: ctx.answerTokens,
    features: featureNames(content.kinds),
    content: strip(content),
    control: strip(control),
    padded: strip(padded),
    ms: performance.now() - t0
  }
}

/** The report as the CLI prints it. */
export function formatPrivacyReport (r: PrivacyReport): string {
  const row = (name: string, e: PrivacyExperiment): string =>
    `${name.padEnd(8)} AUC ${e.auc.toFixed(3)} [${e.aucLow.toFixed(3)}, ${e.aucHigh.toFixed(3)}]  chance ${e.nullMean.toFixed(3)} (95th pct ${e.nullP95.toFixed(3)}, p = ${e.pValue.toFixed(3)})  ${e.perClass} + ${e.perClass} generations, requests ${e.requests[0]}–${e.requests[1]}, early stops ${e.earlyStops}  — ${e.question}\n`
  return 'what a miner can tell from sizes, counts and timing (logistic regression, ' +
    `${r.folds}-fold cross-validated by pairs of generations (${r.repeats} assignments), ${Math.round(r.level * 100)}% bootstrap interval; chance = the same with labels shuffled):\n` +
    row('content', r.content) + row('control', r.control) + row('padded', r.padded) +
    `content: ${r.meetsGoal ? 'meets' : 'misses'} the goal AUC ≤ ${r.goal}; its advantage over chance is ${(100 * r.advantageVsControl).toFixed(1)}% of the control's\n`
}
