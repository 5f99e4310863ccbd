/**
 * Announcing: a peer publishes its signed record on the topic every `intervalMs`, and soon
 * after a neighbour subscribes to the topic (the relay, after a restart) or a peer it has
 * not heard from lately announces.
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { AnnouncementError, ANNOUNCE_TOPIC, signAnnouncement, type Announcement } from './announcement.ts'
import { DISCOVERY_DEFAULTS } from './defaults.ts'
import { joinTopic, leaveTopic, type PubsubNode, type TopicEvent } from './topic.ts'

/** What the announcer asks for each time it announces (the rest it fills in). */
export type AnnounceInfo = Omit<Announcement, 'v' | 'peerId' | 'ts'>

/** Options of {@link startAnnouncing}. */
export interface AnnounceOptions {
  /** Period of announcements (default 5 s). */
  readonly intervalMs?: number
  /** Least time between two triggered announcements (default 0.5 s). */
  readonly minGapMs?: number
  /** Sees announcements that could not be made or published (default: ignored; the next interval retries). */
  readonly onError?: (err: unknown) => void
}

/** A running announcer. */
export interface Announcer {
  /** Announce now (never rejects; failures go to `onError`). */
  announceNow: () => Promise<void>
  /** Announcements published so far. */
  readonly published: number
  stop: () => void
}

/**
 * Announce `info()` on the topic now, every `intervalMs`, and soon after a neighbour
 * subscribes to the topic or a peer not heard from lately announces.
 * @throws {AnnouncementError} when `privateKey` is not the node's identity.
 */
export function startAnnouncing (node: PubsubNode, privateKey: PrivateKey, info: () => AnnounceInfo, opts: AnnounceOptions = {}): Announcer {
  if (!peerIdFromPrivateKey(privateKey).equals(node.peerId)) throw new AnnouncementError('malformed', `the key is not the identity of node ${node.peerId.toString()}`)
  const intervalMs = opts.intervalMs ?? DISCOVERY_DEFAULTS.intervalMs
  const minGapMs = opts.minGapMs ?? DISCOVERY_DEFAULTS.minGapMs
  const pubsub = node.services.pubsub
  const topic = joinTopic(pubsub)
  const heard = new Map<string, number>() // peer → last heard (ms); bounded like a table
  let stopped = false
  let published = 0
  let lastAt = -Infinity
  let lastTs = 0
  let pending: ReturnType<typeof setTimeout> | undefined

  const announceNow = async (): Promise<void> => {
    if (stopped) return
    lastAt = Date.now()
    try {
      // strictly increasing, so two announcements in the same millisecond both count (a table keeps the newer ts only)
      lastTs = Math.max(Date.now(), lastTs + 1)
      const bytes = await signAnnouncement(privateKey, { v: 1, peerId: node.peerId.toString(), ts: lastTs, ...info() })
      if (stopped) return
      await pubsub.publish(ANNOUNCE_TOPIC, bytes)
      published++
    } catch (err) {
      if (!stopped) opts.onError?.(err)
    }
  }
  const trigger = (): void => {
    if (stopped || pending !== undefined) return
    const wait = lastAt + minGapMs - Date.now()
    if (wait <= 0) { void announceNow(); return }
    pending = setTimeout(() => { pending = undefined; void announceNow() }, wait)
  }
  const onTopicEvent = (e: TopicEvent): void => {
    if (!e.ok) return
    const now = Date.now()
    const last = heard.get(e.from)
    heard.delete(e.from)
    heard.set(e.from, now)
    if (heard.size > DISCOVERY_DEFAULTS.maxPeers) heard.delete(heard.keys().next().value as string)
    if (last === undefined || now - last > DISCOVERY_DEFAULTS.forgetAfterMs) trigger()
  }
  const onSubscription = (evt: CustomEvent<{ subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
    if (evt.detail.subscriptions.some(s => s.topic === ANNOUNCE_TOPIC && s.subscribe)) trigger()
  }
  topic.listeners.add(onTopicEvent)
  pubsub.addEventListener('subscription-change', onSubscription)
  const timer = setInterval(() => { void announceNow() }, intervalMs)
  void announceNow()
  return {
    announceNow,
    get published () { return published },
    stop () {
      if (stopped) return
      stopped = true
      clearInterval(timer)
      if (pending !== undefined) clearTimeout(pending)
      topic.listeners.delete(onTopicEvent)
      pubsub.removeEventListener('subscription-change', onSubscription)
      leaveTopic(pubsub, topic)
    }
  }
}

