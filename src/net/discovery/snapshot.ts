/**
 * `/cerberus/announcements/1.0.0`: the relay hands the latest signed announcements it holds
 * to a peer that just connected (see discovery.ts for why gossip alone cannot do it) — the
 * record snapshot of ../snapshots.ts with the announcements' decoder and bounds.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { decodeRecordSnapshot, encodeRecordSnapshot, fetchRecordSnapshot, serveRecordSnapshot, snapshotMaxBytes, SNAPSHOT_TIMING, type SnapshotSpec } from '../snapshots.ts'
import { AnnouncementError, ANNOUNCE_LIMITS, decodeAnnouncement, type Announcement } from './announcement.ts'

/** The protocol id. */
export const ANNOUNCEMENTS_PROTOCOL = '/cerberus/announcements/1.0.0'

/**
 * Bounds, and why.
 * - maxRecords: 256 records (miners first) are more miners than one user picks from; ≤ 1 MiB.
 * - timeoutMs, maxInboundStreams: those of every snapshot (../snapshots.ts).
 */
export const SNAPSHOT_LIMITS = Object.freeze({
  maxRecords: 256,
  maxBytes: snapshotMaxBytes({ maxRecords: 256, maxRecordBytes: ANNOUNCE_LIMITS.maxBytes }),
  ...SNAPSHOT_TIMING
})

const SPEC: SnapshotSpec<Announcement, AnnouncementError> = {
  protocol: ANNOUNCEMENTS_PROTOCOL,
  maxRecords: SNAPSHOT_LIMITS.maxRecords,
  maxRecordBytes: ANNOUNCE_LIMITS.maxBytes,
  malformed: why => new AnnouncementError('malformed', `announcement snapshot: ${why}`),
  decode: async (record, now) => await decodeAnnouncement(record, undefined, now),
  asError: err => err instanceof AnnouncementError ? err : new AnnouncementError('malformed', `the record could not be read: ${(err as Error).message}`, err),
  timeoutCode: 'ANNOUNCE_SNAPSHOT_TIMEOUT'
}

/** What the server needs of a table. */
export interface SnapshotSource {
  list: () => ReadonlyArray<{ readonly role: string, readonly receivedAt: number, readonly bytes: Uint8Array }>
}

/** A record from a snapshot: verified, or refused with its typed error. */
export type SnapshotRecord =
  | { readonly ok: true, readonly announcement: Announcement, readonly bytes: Uint8Array, readonly ageMs: number }
  | { readonly ok: false, readonly error: AnnouncementError }

/** Miners first (users need them), then the most recently heard. */
function ordered (source: SnapshotSource): ReturnType<SnapshotSource['list']> {
  return [...source.list()].sort((a, b) => Number(b.role === 'miner') - Number(a.role === 'miner') || b.receivedAt - a.receivedAt)
}

/** The snapshot message of `source`'s records at `now`. */
export function encodeSnapshot (source: SnapshotSource, now: number): Uint8Array {
  return encodeRecordSnapshot(SPEC, ordered(source), now)
}

function asRecords (entries: Awaited<ReturnType<typeof decodeRecordSnapshot<Announcement, AnnouncementError>>>): SnapshotRecord[] {
  return entries.map(e => e.ok ? { ok: true, announcement: e.value, bytes: e.bytes, ageMs: e.ageMs } : e)
}

/**
 * Read a snapshot message; each record is verified on its own (a bad one does not spoil
 * the rest). @throws {AnnouncementError} ('malformed') when the message itself is malformed.
 */
export async function decodeSnapshot (bytes: Uint8Array, now: number): Promise<SnapshotRecord[]> {
  return asRecords(await decodeRecordSnapshot(SPEC, bytes, now))
}

/** Serve `source`'s records on `node`; returns the function that stops serving. */
export async function serveAnnouncements (node: Libp2p, source: SnapshotSource): Promise<() => Promise<void>> {
  return await serveRecordSnapshot(node, SPEC, () => ordered(source))
}

/**
 * Ask `peer` for its records.
 * @throws when the peer cannot be asked or answers more than the bound or a malformed message.
 */
export async function fetchAnnouncements (node: Libp2p, peer: PeerId, now: number, signal?: AbortSignal): Promise<SnapshotRecord[]> {
  return asRecords(await fetchRecordSnapshot(node, peer, SPEC, now, signal))
}
