/**
 * The score book: the latest verified score record of each (validator, miner) pair, as
 * pure state with an injectable clock. It refuses what a single record cannot show to be
 * wrong: a record not newer than the one held ('replayed'), a validator publishing faster
 * than its bucket allows or a pair more often than once a second ('rate'), a record for a
 * model no announced miner serves ('model'), and validators or miners beyond its bounds
 * ('full'). Records not refreshed for `forgetAfterMs` are forgotten, so the scores of a
 * validator that stops age out.
 */
import { ScoreError, type ScoreRecord } from './score-record.ts'

/**
 * Defaults, and why.
 * - republishMs: validators publish every record again every 10 s (score-publisher.ts).
 * - forgetAfterMs: three missed republishes, so one lost message does not drop a score.
 * - maxValidators / maxMinersPerValidator: keys are free, so the bounds are on the book
 *   (64 × 256 pairs of ~260 B are ~4 MiB at worst); records beyond them are refused.
 * - minPairGapMs: a validator scores a miner at most once per round (seconds); a record
 *   dated less than 1 s after the one held is spam.
 * - bucket / refillPerSecond: a validator republishing 256 miners every 10 s sends ~26
 *   records a second; the bucket holds two such bursts and refills at 64 a second, so a
 *   spamming validator is cut off after 512 records while an honest one never is.
 */
export const SCORE_BOOK_DEFAULTS = Object.freeze({
  republishMs: 10_000,
  forgetAfterMs: 30_000,
  maxValidators: 64,
  maxMinersPerValidator: 256,
  minPairGapMs: 1_000,
  bucket: 512,
  refillPerSecond: 64
})

/** A record in the book, with its signed bytes and when it was heard (local clock). */
export type ScoreEntry = ScoreRecord & { readonly receivedAt: number, readonly bytes: Uint8Array }

/** Options of {@link createScoreBookState}. */
export interface ScoreBookOptions {
  /** Whether a model (hex SHA-256) is served by an announced miner (default: any). */
  readonly knownModel?: (sha256: string) => boolean
  readonly forgetAfterMs?: number
  readonly maxValidators?: number
  readonly maxMinersPerValidator?: number
  readonly minPairGapMs?: number
  readonly bucket?: number
  readonly refillPerSecond?: number
  /** The clock (default Date.now). */
  readonly now?: () => number
}

/** The book's state, without any network. */
export interface ScoreBookState {
  /**
   * Take a verified record heard at `receivedAt` (default now).
   * @throws {ScoreError} ('replayed', 'rate', 'model' or 'full') when it is refused.
   */
  offer: (s: ScoreRecord, bytes: Uint8Array, receivedAt?: number) => 'added' | 'updated'
  /** Forget records not refreshed for `forgetAfterMs`. */
  sweep: () => void
  /** Every record held (fresh ones only). */
  list: () => ScoreEntry[]
  /** The records about one miner, one per validator. */
  forMiner: (minerId: string) => ScoreEntry[]
  /** Called on every change (a record added, updated or forgotten). */
  subscribe: (listener: () => void) => () => void
  readonly size: number
}

interface Bucket { tokens: number, at: number }

/** A score book without a network (the logic of the live book, score-topic.ts). */
export function createScoreBookState (opts: ScoreBookOptions = {}): ScoreBookState {
  const D = SCORE_BOOK_DEFAULTS
  const forgetAfterMs = opts.forgetAfterMs ?? D.forgetAfterMs
  const maxValidators = opts.maxValidators ?? D.maxValidators
  const maxMiners = opts.maxMinersPerValidator ?? D.maxMinersPerValidator
  const minPairGapMs = opts.minPairGapMs ?? D.minPairGapMs
  const capacity = opts.bucket ?? D.bucket
  const refill = opts.refillPerSecond ?? D.refillPerSecond
  const now = opts.now ?? Date.now
  const byValidator = new Map<string, Map<string, ScoreEntry>>()
  const buckets = new Map<string, Bucket>()
  const listeners = new Set<() => void>()
  let size = 0
  const emit = (): void => { for (const l of [...listeners]) l() }

  const sweep = (): void => {
    const limit = now() - forgetAfterMs
    let changed = false
    for (const [v, miners] of byValidator) {
      for (const [m, e] of miners) {
        if (e.receivedAt >= limit) continue
        miners.delete(m)
        size--
        changed = true
      }
      if (miners.size === 0) byValidator.delete(v)
    }
    // a bucket is full again once its validator has been quiet for a full refill
    for (const [v, b] of buckets) if (!byValidator.has(v) && now() - b.at > 1000 * capacity / refill) buckets.delete(v)
    if (changed) emit()
  }

  const take = (validator: string): boolean => {
    const t = now()
    const b = buckets.get(validator) ?? { tokens: capacity, at: t }
    b.tokens = Math.min(capacity, b.tokens + (t - b.at) * refill / 1000)
    b.at = t
    buckets.set(validator, b)
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }

  return {
    offer (s, bytes, receivedAt = now()) {
      sweep()
      if (receivedAt < now() - forgetAfterMs) throw new ScoreError('stale', `the score record of validator ${s.validatorId} was heard ${Math.round((now() - receivedAt) / 1000)} s ago`)
      if (opts.knownModel !== undefined && !opts.knownModel(s.modelSha256)) throw new ScoreError('model', `validator ${s.validatorId} scored a model (sha256 ${s.modelSha256.slice(0, 12)}…) that no announced miner serves`)
      const miners = byValidator.get(s.validatorId)
      const old = miners?.get(s.minerId)
      if (old !== undefined && s.ts <= old.ts) throw new ScoreError('replayed', `validator ${s.validatorId}'s record of miner ${s.minerId} is not newer than the one held`)
      if (old !== undefined && s.ts < old.ts + minPairGapMs) throw new ScoreError('rate', `validator ${s.validatorId} scored miner ${s.minerId} twice within ${minPairGapMs} ms`)
      if (miners === undefined && byValidator.size >= maxValidators) throw new ScoreError('full', `the book holds ${maxValidators} validators already`)
      if (old === undefined && (miners?.size ?? 0) >= maxMiners) throw new ScoreError('full', `validator ${s.validatorId} scores more than ${maxMiners} miners`)
      if (!take(s.validatorId)) throw new ScoreError('rate', `validator ${s.validatorId} publishes more than ${refill} records a second`)
      const entry: ScoreEntry = { ...s, receivedAt, bytes }
      const held = miners ?? new Map<string, ScoreEntry>()
      held.set(s.minerId, entry)
      byValidator.set(s.validatorId, held)
      if (old === undefined) size++
      emit()
      return old === undefined ? 'added' : 'updated'
    },
    sweep,
    list () {
      sweep()
      return [...byValidator.values()].flatMap(m => [...m.values()])
    },
    forMiner (minerId) {
      sweep()
      const out: ScoreEntry[] = []
      for (const m of byValidator.values()) {
        const e = m.get(minerId)
        if (e !== undefined) out.push(e)
      }
      return out
    },
    subscribe (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    get size () { return size }
  }
}
