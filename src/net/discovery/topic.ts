/**
 * The announcement topic: one gossipsub subscription and one validator per node, shared
 * by everything on that node that listens (its peer table, its announcer). Every record is
 * validated in gossipsub's topic validator, so a bad one is neither listed nor forwarded.
 */
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { AnnouncementError, ANNOUNCE_TOPIC, decodeAnnouncement, type Announcement } from './announcement.ts'

/** The part of a libp2p node that discovery uses. */
export type PubsubNode = Libp2p<{ pubsub: GossipSub }>

/** What the topic tells its listeners about each record. */
export type TopicEvent =
  | { readonly ok: true, readonly from: string, readonly announcement: Announcement, readonly bytes: Uint8Array }
  | { readonly ok: false, readonly from: string, readonly error: AnnouncementError }

/** The shared hub of one node's subscription. */
export interface Topic {
  refs: number
  readonly listeners: Set<(e: TopicEvent) => void>
}

const topics = new WeakMap<GossipSub, Topic>()

/** Subscribe `pubsub` to the topic and validate every record there; returns the shared hub. */
export function joinTopic (pubsub: GossipSub): Topic {
  const existing = topics.get(pubsub)
  if (existing !== undefined) {
    existing.refs++
    return existing
  }
  const topic: Topic = { refs: 1, listeners: new Set() }
  const tell = (e: TopicEvent): void => { for (const l of [...topic.listeners]) l(e) }
  pubsub.topicValidators.set(ANNOUNCE_TOPIC, async (_propagationSource: PeerId, msg: Message) => {
    const from = msg.type === 'signed' ? msg.from.toString() : ''
    try {
      if (msg.type !== 'signed') throw new AnnouncementError('sender', 'an unsigned gossipsub message: its author is unknown')
      const announcement = await decodeAnnouncement(msg.data, msg.from, Date.now())
      tell({ ok: true, from, announcement, bytes: msg.data })
      return TopicValidatorResult.Accept
    } catch (err) {
      const error = err instanceof AnnouncementError ? err : new AnnouncementError('malformed', `the record could not be read: ${(err as Error).message}`, err)
      tell({ ok: false, from, error })
      // Genuine but old (or early) records are not forwarded, without blaming the neighbour
      // that passed them on: they may have been valid when it did.
      return error.reason === 'stale' || error.reason === 'future' ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject
    }
  })
  pubsub.subscribe(ANNOUNCE_TOPIC)
  topics.set(pubsub, topic)
  return topic
}

/** Drop one reference; the last one unsubscribes the node. */
export function leaveTopic (pubsub: GossipSub, topic: Topic): void {
  if (--topic.refs > 0 || topics.get(pubsub) !== topic) return
  topics.delete(pubsub)
  pubsub.topicValidators.delete(ANNOUNCE_TOPIC)
  try {
    pubsub.unsubscribe(ANNOUNCE_TOPIC)
  } catch {
    // the node is already stopped
  }
}

