/**
 * Validators' scores on the mesh: signed records of known-answer jobs per miner, gossiped
 * on `/cerberus/scores/1`, kept (bounded, rate-limited, latest per validator and miner) in
 * a book that the relay also serves to newcomers, and combined per user into a miner's
 * standing — the weighted median over validators.
 *
 * ```ts
 * // a validator
 * const publisher = startScorePublisher(node, privateKey, () => [{ minerId, modelSha256, epoch, jobs: 40, passed: 40, failed: 0, p50Ms: 12, p95Ms: 30 }])
 * await publisher.publishNow()
 * // a user
 * const book = createScoreBook(node, { knownModel: sha => sha === myModel })
 * const { standings } = minerStandings(book.list().filter(r => r.modelSha256 === myModel), { caught: new Set() })
 * standings.get(minerId)?.status // 'trusted' | 'unscored' | 'failed'
 * ```
 */
export { decodeScore, signScore, ScoreError, SCORE_LIMITS, SCORE_SIGNING_CONTEXT, SCORE_VERSION, SCORES_TOPIC, type ScoreRecord, type ScoreRejection } from './score-record.ts'
export { createScoreBookState, SCORE_BOOK_DEFAULTS, type ScoreBookOptions, type ScoreBookState, type ScoreEntry } from './score-book.ts'
export { createScoreBook, serveScores, ScoreBookError, SCORE_SNAPSHOT, SCORE_SNAPSHOT_LIMITS, SCORES_PROTOCOL, type LiveScoreBookOptions, type ScoreBook, type ScoreBookStats } from './score-topic.ts'
export { startScorePublisher, type ScoreInfo, type ScorePublisher, type ScorePublisherOptions } from './score-publisher.ts'
export { minerStandings, standingOf, STANDING_LIMITS, unscoredShare, validatorWeights, verdictOf, type MinerStanding, type MinerStatus, type ScoreClaim, type UserEvidence, type Verdict } from './standing.ts'
