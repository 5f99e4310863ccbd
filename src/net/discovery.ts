/**
 * Discovery: who is on the mesh, from signed announcements on gossipsub.
 *
 * ```ts
 * // a miner
 * const announcer = startAnnouncing(node, privateKey, () => ({ role: 'miner', addrs, model, presets, capacity: 2, load: service.queued }))
 * // a user
 * const table = createPeerTable(node)
 * table.subscribe(() => console.log(table.list().filter(p => p.role === 'miner')))
 * ```
 *
 * Every peer's table validates announcements in gossipsub's topic validator, so a bad one
 * is neither listed nor forwarded. A miner publishes every `intervalMs`, and at once when a
 * neighbour subscribes to the topic (the relay, after a restart) or a peer it has not heard
 * from announces. Gossipsub shows a subscription only to direct neighbours: a miner never
 * sees a user who joins through the relay, and the relay grafts that user into its mesh at
 * once, so gossip of earlier messages does not reach it either. So the relay keeps a table
 * too and hands the latest records to each peer that connects
 * ({@link ANNOUNCEMENTS_PROTOCOL}); they carry their authors' signatures, so the user checks
 * them as if they came from the authors. A fresh user sees the miners one round trip after
 * it reaches the relay.
 */
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { IdentifyResult, Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { AnnouncementError, ANNOUNCE_TOPIC, decodeAnnouncement, signAnnouncement, type Announcement, type AnnouncementRejection } from './announcement.ts'
import { ANNOUNCEMENTS_PROTOCOL, fetchAnnouncements, serveAnnouncements } from './announcement-snapshot.ts'

export { ANNOUNCE_LIMITS, ANNOUNCE_TOPIC, AnnouncementError, decodeAnnouncement, signAnnouncement } from './announcement.ts'
export type { AnnouncedRole, Announcement, AnnouncementRejection } from './announcement.ts'
export { ANNOUNCEMENTS_PROTOCOL, serveAnnouncements }

/**
 * Defaults, and why.
 * - intervalMs: 5 s keeps `load` fresh enough for scheduling at ~300 B per miner per
 *   interval, which 1,000 miners turn into ~60 KB/s at each peer.
 * - forgetAfterMs: three missed intervals, so one lost message does not drop a miner.
 * - minGapMs: triggered announcements (a neighbour subscribed, a new peer spoke) are at
 *   most one per 0.5 s, so a crowd arriving at once costs each miner 2 messages a second.
 * - maxPeers: a table holds at most 1,024 peers; records from further new peers are
 *   ignored until some are forgotten (keys are free, so the bound must be on the table).
 */
export const DISCOVERY_DEFAULTS = Object.freeze({
  intervalMs: 5_000,
  forgetAfterMs: 15_000,
  minGapMs: 500,
  maxPeers: 1024
})

/** The part of a libp2p node that discovery uses. */
export type PubsubNode = Libp2p<{ pubsub: GossipSub }>

/** A peer in a table: its latest announcement, the signed record, and when it was heard (local clock). */
export type PeerTableEntry = Announcement & { readonly receivedAt: number, readonly bytes: Uint8Array }

/** A change of a table. */
export interface PeerTableChange {
  readonly type: 'added' | 'updated' | 'forgotten'
  readonly peer: PeerTableEntry
}

/* ------------------------------------------------------------------------------------
 * The table itself: pure, with an injectable clock.
 * ------------------------------------------------------------------------------------ */

/** Options of {@link createPeerTableState} and {@link createPeerTable}. */
export interface PeerTableOptions {
  /** Forget a peer not heard from for this long (default 15 s). */
  readonly forgetAfterMs?: number
  /** At most this many peers (default 1,024). */
  readonly maxPeers?: number
  /** The clock (default Date.now). */
  readonly now?: () => number
}

/** The table's state, without any network. */
export interface PeerTableState {
  /**
   * Take a verified announcement heard at `receivedAt` (default now). The latest `ts` wins;
   * an older or equal one changes nothing. Returns what happened.
   */
  offer: (a: Announcement, bytes: Uint8Array, receivedAt?: number) => 'added' | 'updated' | 'older' | 'full'
  /** Forget peers silent for longer than forgetAfterMs. */
  sweep: () => void
  list: () => PeerTableEntry[]
  get: (peerId: string) => PeerTableEntry | undefined
  subscribe: (listener: (change: PeerTableChange) => void) => () => void
  readonly size: number
}

/** A peer table without a network (the logic of {@link createPeerTable}). */
export function createPeerTableState (opts: PeerTableOptions = {}): PeerTableState {
  const forgetAfterMs = opts.forgetAfterMs ?? DISCOVERY_DEFAULTS.forgetAfterMs
  const maxPeers = opts.maxPeers ?? DISCOVERY_DEFAULTS.maxPeers
  const now = opts.now ?? Date.now
  const peers = new Map<string, PeerTableEntry>()
  const listeners = new Set<(change: PeerTableChange) => void>()
  const emit = (change: PeerTableChange): void => { for (const l of [...listeners]) l(change) }
  const sweep = (): void => {
    const limit = now() - forgetAfterMs
    for (const [id, p] of peers) {
      if (p.receivedAt >= limit) continue
      peers.delete(id)
      emit({ type: 'forgotten', peer: p })
    }
  }
  return {
    offer (a, bytes, receivedAt = now()) {
      sweep()
      if (receivedAt < now() - forgetAfterMs) return 'older' // handed on, but already too old
      const old = peers.get(a.peerId)
      if (old !== undefined && a.ts <= old.ts) return 'older'
      if (old === undefined && peers.size >= maxPeers) return 'full'
      const peer: PeerTableEntry = { ...a, receivedAt, bytes }
      peers.set(a.peerId, peer)
      const type = old === undefined ? 'added' : 'updated'
      emit({ type, peer })
      return type
    },
    sweep,
    list () { sweep(); return [...peers.values()] },
    get (peerId) { sweep(); return peers.get(peerId) },
    subscribe (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    get size () { return peers.size }
  }
}

/* ------------------------------------------------------------------------------------
 * The topic: one subscription and one validator per node, shared by its users.
 * ------------------------------------------------------------------------------------ */

type TopicEvent =
  | { readonly ok: true, readonly from: string, readonly announcement: Announcement, readonly bytes: Uint8Array }
  | { readonly ok: false, readonly from: string, readonly error: AnnouncementError }

interface Topic {
  refs: number
  readonly listeners: Set<(e: TopicEvent) => void>
}

const topics = new WeakMap<GossipSub, Topic>()

/** Subscribe `pubsub` to the topic and validate every record there; returns the shared hub. */
function joinTopic (pubsub: GossipSub): Topic {
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

function leaveTopic (pubsub: GossipSub, topic: Topic): void {
  if (--topic.refs > 0 || topics.get(pubsub) !== topic) return
  topics.delete(pubsub)
  pubsub.topicValidators.delete(ANNOUNCE_TOPIC)
  try {
    pubsub.unsubscribe(ANNOUNCE_TOPIC)
  } catch {
    // the node is already stopped
  }
}

/* ------------------------------------------------------------------------------------
 * Announcing.
 * ------------------------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------------------------
 * The live table.
 * ------------------------------------------------------------------------------------ */

/** Counters of a live table. */
export interface PeerTableStats {
  /** Records taken into the table (new peers and newer records). */
  accepted: number
  /** Valid records that changed nothing (not newer than what the table has, or the table is full). */
  ignored: number
  /** Records refused, by reason. */
  rejected: Record<AnnouncementRejection, number>
  /** Snapshots received from the relay. */
  snapshots: number
}

/** Options of {@link createPeerTable}. */
export interface LivePeerTableOptions extends PeerTableOptions {
  /** Sees every refused record with its typed error and gossipsub sender. */
  readonly onReject?: (err: AnnouncementError, from: string) => void
}

/** The live table of announced peers. */
export interface PeerTable {
  list: () => PeerTableEntry[]
  get: (peerId: string) => PeerTableEntry | undefined
  /** Called on every change (added, updated, forgotten); returns the unsubscribe function. */
  subscribe: (listener: (change: PeerTableChange) => void) => () => void
  readonly stats: PeerTableStats
  stop: () => void
}

/**
 * The peers announced on the topic (subscribing `node` to it), latest record per peer,
 * forgetting those silent for `forgetAfterMs`; asks every peer that serves
 * {@link ANNOUNCEMENTS_PROTOCOL} (the relay) for the records it holds when it connects.
 */
export function createPeerTable (node: PubsubNode, opts: LivePeerTableOptions = {}): PeerTable {
  const state = createPeerTableState(opts)
  const now = opts.now ?? Date.now
  const stats: PeerTableStats = { accepted: 0, ignored: 0, rejected: { malformed: 0, sender: 0, signature: 0, stale: 0, future: 0 }, snapshots: 0 }
  const pubsub = node.services.pubsub
  const topic = joinTopic(pubsub)
  let stopped = false
  const take = (a: Announcement, bytes: Uint8Array, receivedAt?: number): void => {
    const r = state.offer(a, bytes, receivedAt)
    if (r === 'added' || r === 'updated') stats.accepted++
    else stats.ignored++
  }
  const reject = (error: AnnouncementError, from: string): void => {
    stats.rejected[error.reason]++
    opts.onReject?.(error, from)
  }
  const onTopicEvent = (e: TopicEvent): void => {
    if (e.ok) take(e.announcement, e.bytes)
    else reject(e.error, e.from)
  }
  const fetchFrom = (peer: PeerId): void => {
    void fetchAnnouncements(node, peer, Date.now()).then(records => {
      if (stopped) return
      stats.snapshots++
      for (const r of records) {
        if (r.ok) take(r.announcement, r.bytes, now() - r.ageMs)
        else reject(r.error, peer.toString())
      }
    }, () => {}) // a relay that does not answer just leaves the table to gossip
  }
  const onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { protocols, peerId, connection } = evt.detail
    if (protocols.includes(ANNOUNCEMENTS_PROTOCOL) && connection.limits === undefined) fetchFrom(peerId)
  }
  topic.listeners.add(onTopicEvent)
  node.addEventListener('peer:identify', onIdentify)
  // peers identified before the table existed
  void Promise.all(node.getPeers().map(async peer => {
    const p = await node.peerStore.get(peer).catch(() => undefined)
    if (p?.protocols.includes(ANNOUNCEMENTS_PROTOCOL) === true) fetchFrom(peer)
  }))
  const forgetAfterMs = opts.forgetAfterMs ?? DISCOVERY_DEFAULTS.forgetAfterMs
  const sweeper = setInterval(state.sweep, Math.max(50, Math.min(1000, forgetAfterMs / 4)))
  return {
    list: state.list,
    get: state.get,
    subscribe: state.subscribe,
    stats,
    stop () {
      if (stopped) return
      stopped = true
      clearInterval(sweeper)
      topic.listeners.delete(onTopicEvent)
      node.removeEventListener('peer:identify', onIdentify)
      leaveTopic(pubsub, topic)
    }
  }
}
