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
export { ANNOUNCE_LIMITS, ANNOUNCE_TOPIC, AnnouncementError, decodeAnnouncement, signAnnouncement } from './announcement.ts'
export type { AnnouncedRole, Announcement, AnnouncementRejection } from './announcement.ts'
export { ANNOUNCEMENTS_PROTOCOL, decodeSnapshot, encodeSnapshot, fetchAnnouncements, serveAnnouncements, SNAPSHOT_LIMITS, type SnapshotSource } from './snapshot.ts'
export { DISCOVERY_DEFAULTS } from './defaults.ts'
export type { PubsubNode } from './topic.ts'
export { createPeerTable, createPeerTableState, type LivePeerTableOptions, type PeerTable, type PeerTableChange, type PeerTableEntry, type PeerTableOptions, type PeerTableState, type PeerTableStats } from './peer-table.ts'
export { startAnnouncing, type AnnounceInfo, type AnnounceOptions, type Announcer } from './announcer.ts'
