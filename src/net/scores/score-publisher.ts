/**
 * Publishing a validator's scores: every record it holds, signed with its identity key, on
 * {@link SCORES_TOPIC} — when asked (after an epoch) and again every `intervalMs`, so the
 * records stay fresh in every book and a newcomer's relay snapshot holds them.
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import type { PubsubNode } from '../discovery/index.ts'
import { SCORE_BOOK_DEFAULTS } from './score-book.ts'
import { ScoreError, SCORES_TOPIC, signScore, type ScoreRecord } from './score-record.ts'

/** What the publisher asks for each time (it fills in the validator, the version and the time). */
export type ScoreInfo = Omit<ScoreRecord, 'v' | 'validatorId' | 'ts'>

/** Options of {@link startScorePublisher}. */
export interface ScorePublisherOptions {
  /** Between two publications of every record (default {@link SCORE_BOOK_DEFAULTS}.republishMs). */
  readonly intervalMs?: number
  /** Sees records that could not be signed or published (the next interval retries). */
  readonly onError?: (err: unknown) => void
}

/** A running publisher. */
export interface ScorePublisher {
  /** Publish every record now (never rejects; failures go to `onError`). */
  publishNow: () => Promise<void>
  /** Records published so far. */
  readonly published: number
  stop: () => void
}

/**
 * Publish `records()` signed by `privateKey` (the node's identity) now, when asked, and
 * every `intervalMs`.
 * @throws {ScoreError} when `privateKey` is not the node's identity.
 */
export function startScorePublisher (node: PubsubNode, privateKey: PrivateKey, records: () => readonly ScoreInfo[], opts: ScorePublisherOptions = {}): ScorePublisher {
  if (!peerIdFromPrivateKey(privateKey).equals(node.peerId)) throw new ScoreError('malformed', `the key is not the identity of node ${node.peerId.toString()}`)
  const validatorId = node.peerId.toString()
  const intervalMs = opts.intervalMs ?? SCORE_BOOK_DEFAULTS.republishMs
  let stopped = false
  let published = 0
  let lastTs = 0
  let running: Promise<void> | undefined

  const publishAll = async (): Promise<void> => {
    // Books refuse a pair's record dated less than minPairGapMs after the one they hold:
    // wait that long after the previous publication rather than run the clock ahead.
    const wait = lastTs + SCORE_BOOK_DEFAULTS.minPairGapMs - Date.now()
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    if (stopped) return
    const ts = Math.max(Date.now(), lastTs + SCORE_BOOK_DEFAULTS.minPairGapMs)
    lastTs = ts
    for (const info of records()) {
      if (stopped) return
      try {
        const bytes = await signScore(privateKey, { v: 1, validatorId, ts, ...info })
        await node.services.pubsub.publish(SCORES_TOPIC, bytes)
        published++
      } catch (err) {
        if (!stopped) opts.onError?.(err)
      }
    }
  }
  const publishNow = async (): Promise<void> => {
    // one publication at a time; a request during one runs after it
    const next = (running ?? Promise.resolve()).then(publishAll)
    running = next
    await next
  }
  const timer = setInterval(() => { void publishNow() }, intervalMs)
  return {
    publishNow,
    get published () { return published },
    stop () {
      stopped = true
      clearInterval(timer)
    }
  }
}
