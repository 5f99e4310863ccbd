/**
 * A miner's standing for one user, from validators' score records and the user's own
 * verification outcomes — pure functions, no network.
 *
 * - Each validator's record gives a verdict: 'fail' when any known-answer job came back
 *   wrong (an exact check: one wrong result is proof), 'pass' when some came back and all
 *   were right, 'none' when none came back (unreachable is not cheating).
 * - A miner's standing is the weighted median of its validators' verdicts. Verdicts are
 *   binary, so the median is the weighted majority: a lying minority can neither lift a
 *   cheat nor sink an honest miner; an even split leaves the miner 'unscored'.
 * - A validator loses weight for this user for every claim that contradicts what she
 *   knows: vouching for a miner whose result failed her own Freivalds check (proof: counts
 *   twice), or contradicting the weighted majority of the other validators on a miner.
 *   Weights are recomputed from the current claims, so a validator that was fooled by a
 *   cheat and then reports it failed regains its weight.
 * - A miner that failed her own check is 'failed' whatever validators say.
 */
import type { ScoreRecord } from './score-record.ts'

/** How a user treats a miner: 'trusted' (validators vouch), 'unscored' (a bounded share of jobs), 'failed' (no job at all). */
export type MinerStatus = 'trusted' | 'unscored' | 'failed'

/** One validator's verdict on one miner. */
export type Verdict = 'pass' | 'fail' | 'none'

/**
 * Bounds of the standing, and why.
 * - decay: each contradicted claim halves a validator's weight, so one slip costs little
 *   and a validator that lies about several miners counts for next to nothing.
 * - weightFloor: below 1/16 (four contradictions, or two proven lies) a validator is not
 *   counted at all.
 * - maxUnscoredShare: unscored miners together get at most a quarter of a user's jobs
 *   while a trusted miner is usable — see {@link unscoredShare}.
 */
export const STANDING_LIMITS = Object.freeze({ decay: 0.5, weightFloor: 1 / 16, maxUnscoredShare: 0.25 })

/** What the standing needs of a record. */
export type ScoreClaim = Pick<ScoreRecord, 'validatorId' | 'minerId' | 'jobs' | 'passed' | 'failed' | 'p50Ms'>

/** What the user knows herself. */
export interface UserEvidence {
  /** Miners whose results failed her own verification. */
  readonly caught: ReadonlySet<string>
}

/** A miner's standing, with the counts behind it, for the network panel and `cerberus scores`. */
export interface MinerStanding {
  readonly status: MinerStatus
  /** Why, in words for people ("2 of 3 validators saw wrong results"). */
  readonly reason: string
  /** Validators (counted ones) whose verdict is 'pass' and 'fail', and all with a record of it. */
  readonly vouches: number
  readonly against: number
  readonly validators: number
  /** Known-answer jobs passed and failed, summed over its validators. */
  readonly passed: number
  readonly failed: number
  /** Median over validators of their median latency, ms (undefined when none answered). */
  readonly p50Ms?: number
}

const NO_EVIDENCE: UserEvidence = Object.freeze({ caught: new Set<string>() })

/** The verdict of one record. */
export function verdictOf (s: Pick<ScoreRecord, 'passed' | 'failed'>): Verdict {
  if (s.failed > 0) return 'fail'
  return s.passed > 0 ? 'pass' : 'none'
}

/**
 * The share of a user's jobs that unscored miners get together while `trusted` trusted
 * miners are usable: all of them when none is trusted (a mesh without validators works as
 * before), otherwise what one more trusted miner would get, 1/(trusted + 1), and never more
 * than {@link STANDING_LIMITS}.maxUnscoredShare. So a newcomer is tried — by this user's
 * own Freivalds checks too — without being handed a user's conversation.
 */
export function unscoredShare (trusted: number): number {
  return trusted <= 0 ? 1 : Math.min(STANDING_LIMITS.maxUnscoredShare, 1 / (trusted + 1))
}

function byMiner (claims: readonly ScoreClaim[]): Map<string, ScoreClaim[]> {
  const out = new Map<string, ScoreClaim[]>()
  for (const c of claims) out.set(c.minerId, [...(out.get(c.minerId) ?? []), c])
  return out
}

/** Weighted pass and fail totals of a miner's claims, leaving out `except`. */
function totals (claims: readonly ScoreClaim[], weight: (v: string) => number, except?: string): { pass: number, fail: number } {
  let pass = 0
  let fail = 0
  for (const c of claims) {
    if (c.validatorId === except) continue
    const w = weight(c.validatorId)
    if (w < STANDING_LIMITS.weightFloor) continue
    const v = verdictOf(c)
    if (v === 'pass') pass += w
    else if (v === 'fail') fail += w
  }
  return { pass, fail }
}

/**
 * Each validator's weight for this user, in (0, 1]: halved for every claim contradicting
 * her evidence (twice) or the weighted majority of the other validators (once). Two rounds:
 * the second judges against majorities already weighted by the first.
 */
export function validatorWeights (claims: readonly ScoreClaim[], evidence: UserEvidence = NO_EVIDENCE): Map<string, number> {
  const miners = byMiner(claims)
  let weights = new Map<string, number>(claims.map(c => [c.validatorId, 1]))
  for (let round = 0; round < 2; round++) {
    const prev = weights
    const weight = (v: string): number => prev.get(v) ?? 1
    const contradictions = new Map<string, number>()
    for (const [miner, list] of miners) {
      for (const c of list) {
        const v = verdictOf(c)
        if (v === 'none') continue
        let n = 0
        if (evidence.caught.has(miner)) n = v === 'pass' ? 2 : 0 // her own check decides
        else {
          const others = totals(list, weight, c.validatorId)
          if ((v === 'pass' && others.fail > others.pass) || (v === 'fail' && others.pass > others.fail)) n = 1
        }
        if (n > 0) contradictions.set(c.validatorId, (contradictions.get(c.validatorId) ?? 0) + n)
      }
    }
    weights = new Map([...prev.keys()].map(v => [v, STANDING_LIMITS.decay ** (contradictions.get(v) ?? 0)]))
  }
  return weights
}

function median (xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : Math.round((s[mid - 1] + s[mid]) / 2)
}

/** The standing of `miner` given its claims, the validators' weights and the user's evidence. */
export function standingOf (miner: string, claims: readonly ScoreClaim[], weights: ReadonlyMap<string, number>, evidence: UserEvidence = NO_EVIDENCE): MinerStanding {
  const weight = (v: string): number => weights.get(v) ?? 1
  const counted = claims.filter(c => weight(c.validatorId) >= STANDING_LIMITS.weightFloor)
  const vouches = counted.filter(c => verdictOf(c) === 'pass').length
  const against = counted.filter(c => verdictOf(c) === 'fail').length
  const base = {
    vouches,
    against,
    validators: claims.length,
    passed: claims.reduce((a, c) => a + c.passed, 0),
    failed: claims.reduce((a, c) => a + c.failed, 0),
    p50Ms: median(claims.filter(c => c.passed + c.failed > 0).map(c => c.p50Ms))
  }
  if (evidence.caught.has(miner)) return { ...base, status: 'failed', reason: 'a result of it failed your own verification' }
  const t = totals(claims, weight)
  const of = `of ${counted.length} validator${counted.length === 1 ? '' : 's'}`
  if (t.fail > t.pass) return { ...base, status: 'failed', reason: `${against} ${of} saw wrong results from it` }
  if (t.pass > t.fail) return { ...base, status: 'trusted', reason: `${vouches} ${of} vouch for it` }
  if (t.pass > 0) return { ...base, status: 'unscored', reason: `validators disagree (${vouches} vouch, ${against} saw wrong results)` }
  if (claims.length > 0) return { ...base, status: 'unscored', reason: 'validators got no answer from it yet' }
  return { ...base, status: 'unscored', reason: 'no validator has checked it yet' }
}

/** Every miner's standing among `claims` (others are 'unscored'), and the weights used. */
export function minerStandings (claims: readonly ScoreClaim[], evidence: UserEvidence = NO_EVIDENCE): { standings: Map<string, MinerStanding>, weights: Map<string, number> } {
  const weights = validatorWeights(claims, evidence)
  const standings = new Map<string, MinerStanding>()
  for (const [miner, list] of byMiner(claims)) standings.set(miner, standingOf(miner, list, weights, evidence))
  for (const miner of evidence.caught) if (!standings.has(miner)) standings.set(miner, standingOf(miner, [], weights, evidence))
  return { standings, weights }
}
