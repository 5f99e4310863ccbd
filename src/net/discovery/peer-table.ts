/**
 * The peer table: who is on the mesh, from verified announcements — the latest record per
 * peer, forgetting those silent for `forgetAfterMs` — as pure state with an injectable
 * clock, and live on a node (the topic, plus the relay's snapshot when it connects).
 */
import type { PeerId } from '@libp2p/interface'
import { watchSnapshotServers } from '../snapshots.ts'
import type { Announcement, AnnouncementError, AnnouncementRejection } from './announcement.ts'
import { DISCOVERY_DEFAULTS } from './defaults.ts'
import { ANNOUNCEMENTS_PROTOCOL, fetchAnnouncements } from './snapshot.ts'
import { joinTopic, leaveTopic, type PubsubNode, type TopicEvent } from './topic.ts'

/** A peer in a table: its latest announcement, the signed record, and when it was heard (local clock). */
export type PeerTableEntry = Announcement & { readonly receivedAt: number, readonly bytes: Uint8Array }

/** A change of a table. */
export interface PeerTableChange {
  readonly type: 'added' | 'updated' | 'forgotten'
  readonly peer: PeerTableEntry
}

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
  topic.listeners.add(onTopicEvent)
  const unwatch = watchSnapshotServers(node, ANNOUNCEMENTS_PROTOCOL, fetchFrom)
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
      unwatch()
      leaveTopic(pubsub, topic)
    }
  }
}
