/**
 * The live score book of a node: it subscribes to {@link SCORES_TOPIC} and validates every
 * record in gossipsub's topic validator — the record's own checks (decodeScore) and the
 * book's (replays, rate, unknown models, bounds) — so a refused record is neither kept nor
 * forwarded; and it asks every peer that serves {@link SCORES_PROTOCOL} (the relay) for the
 * records it holds when it connects, as the peer table does for announcements.
 */
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { CerberusError } from '../../core/errors.ts'
import type { PubsubNode } from '../discovery/index.ts'
import { fetchRecordSnapshot, serveRecordSnapshot, watchSnapshotServers, type SnapshotSpec } from '../snapshots.ts'
import { createScoreBookState, SCORE_BOOK_DEFAULTS, type ScoreBookOptions, type ScoreBookState } from './score-book.ts'
import { decodeScore, ScoreError, SCORE_LIMITS, SCORES_TOPIC, type ScoreRecord, type ScoreRejection } from './score-record.ts'

/** The protocol id of score snapshots. */
export const SCORES_PROTOCOL = '/cerberus/scores/1.0.0'

/**
 * Bounds of a score snapshot, and why: 2,048 records (the most recently heard first) cover
 * 8 validators × 256 miners, or 64 validators × 32 miners, in ≤ 1.1 MiB.
 */
export const SCORE_SNAPSHOT_LIMITS = Object.freeze({ maxRecords: 2048 })

const asScoreError = (err: unknown): ScoreError => err instanceof ScoreError ? err : new ScoreError('malformed', `the record could not be read: ${(err as Error).message}`, err)

/** The score snapshot: ../snapshots.ts with the score records' decoder and bounds. */
export const SCORE_SNAPSHOT: SnapshotSpec<ScoreRecord, ScoreError> = {
  protocol: SCORES_PROTOCOL,
  maxRecords: SCORE_SNAPSHOT_LIMITS.maxRecords,
  maxRecordBytes: SCORE_LIMITS.maxBytes,
  malformed: why => new ScoreError('malformed', `score snapshot: ${why}`),
  decode: async (record, now) => await decodeScore(record, undefined, now),
  asError: asScoreError,
  timeoutCode: 'SCORE_SNAPSHOT_TIMEOUT'
}

/** Counters of a live book. */
export interface ScoreBookStats {
  accepted: number
  rejected: Record<ScoreRejection, number>
  /** Snapshots received from the relay. */
  snapshots: number
}

/** Options of {@link createScoreBook}. */
export interface LiveScoreBookOptions extends ScoreBookOptions {
  /** Sees every refused record with its typed error and gossipsub sender. */
  readonly onReject?: (err: ScoreError, from: string) => void
}

/** The live book of a node's score records. */
export interface ScoreBook extends Pick<ScoreBookState, 'list' | 'forMiner' | 'subscribe'> {
  readonly stats: ScoreBookStats
  /** Ask the snapshot servers met so far (the relay) again; resolves when they answered or failed. */
  refresh: () => Promise<void>
  stop: () => void
}

/** A second book was made on a node that already has one. */
export class ScoreBookError extends CerberusError {
  constructor (message: string) {
    super('SCORE_BOOK', message)
  }
}

const books = new WeakSet<GossipSub>()

/** Keep `node`'s score records (subscribing it to the topic). @throws {ScoreBookError} when the node has a book already. */
export function createScoreBook (node: PubsubNode, opts: LiveScoreBookOptions = {}): ScoreBook {
  const pubsub = node.services.pubsub
  if (books.has(pubsub)) throw new ScoreBookError(`node ${node.peerId.toString()} keeps a score book already; share it (MeshMember.scores)`)
  books.add(pubsub)
  const state = createScoreBookState(opts)
  const now = opts.now ?? Date.now
  const stats: ScoreBookStats = { accepted: 0, rejected: { malformed: 0, sender: 0, signature: 0, stale: 0, future: 0, replayed: 0, rate: 0, model: 0, full: 0 }, snapshots: 0 }
  let stopped = false
  const reject = (error: ScoreError, from: string): void => {
    stats.rejected[error.reason]++
    opts.onReject?.(error, from)
  }
  const take = (s: ScoreRecord, bytes: Uint8Array, from: string, receivedAt?: number): ScoreError | undefined => {
    try {
      state.offer(s, bytes, receivedAt)
      stats.accepted++
      return undefined
    } catch (err) {
      const e = asScoreError(err)
      reject(e, from)
      return e
    }
  }
  pubsub.topicValidators.set(SCORES_TOPIC, async (_source: PeerId, msg: Message) => {
    const from = msg.type === 'signed' ? msg.from.toString() : ''
    let error: ScoreError | undefined
    try {
      if (msg.type !== 'signed') throw new ScoreError('sender', 'an unsigned gossipsub message: its author is unknown')
      const s = await decodeScore(msg.data, msg.from, Date.now())
      error = take(s, msg.data, from)
      if (error === undefined) return TopicValidatorResult.Accept
    } catch (err) {
      error = asScoreError(err)
      reject(error, from)
    }
    // Genuine but late, repeated, throttled or off-topic records are not forwarded, without
    // blaming the neighbour that passed them on (they may have been fine when it did).
    return error.reason === 'malformed' || error.reason === 'sender' || error.reason === 'signature' ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
  })
  pubsub.subscribe(SCORES_TOPIC)

  const servers = new Map<string, PeerId>() // a peer has a relay or two
  const fetchFrom = async (peer: PeerId): Promise<void> => {
    servers.set(peer.toString(), peer)
    if (servers.size > 8) servers.delete(servers.keys().next().value as string)
    await fetchRecordSnapshot(node, peer, SCORE_SNAPSHOT, Date.now()).then(records => {
      if (stopped) return
      stats.snapshots++
      for (const r of records) {
        if (r.ok) take(r.value, r.bytes, peer.toString(), now() - r.ageMs)
        else reject(r.error, peer.toString())
      }
    }, () => {}) // a relay that does not answer leaves the book to gossip
  }
  const unwatch = watchSnapshotServers(node, SCORES_PROTOCOL, peer => { void fetchFrom(peer) })
  const forgetAfterMs = opts.forgetAfterMs ?? SCORE_BOOK_DEFAULTS.forgetAfterMs
  const sweeper = setInterval(state.sweep, Math.max(50, Math.min(1000, forgetAfterMs / 4)))
  return {
    list: state.list,
    forMiner: state.forMiner,
    subscribe: state.subscribe,
    stats,
    refresh: async () => { await Promise.all([...servers.values()].map(fetchFrom)) },
    stop () {
      if (stopped) return
      stopped = true
      clearInterval(sweeper)
      unwatch()
      books.delete(pubsub)
      pubsub.topicValidators.delete(SCORES_TOPIC)
      try {
        pubsub.unsubscribe(SCORES_TOPIC)
      } catch {
        // the node is already stopped
      }
    }
  }
}

/** Serve `book`'s records (the most recently heard first) on `node`; returns the function that stops serving. */
export async function serveScores (node: PubsubNode, book: Pick<ScoreBook, 'list'>): Promise<() => Promise<void>> {
  return await serveRecordSnapshot(node, SCORE_SNAPSHOT, () => [...book.list()].sort((a, b) => b.receivedAt - a.receivedAt))
}
