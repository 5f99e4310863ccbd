/**
 * `/cerberus/announcements/1.0.0`: a peer that keeps a table (the relay) hands the latest
 * signed records it holds to a peer that just connected, so that peer need not wait for
 * the next round of announcements (see discovery.ts for why gossip alone cannot do it).
 *
 * The server writes one message and closes; the client sends nothing.
 *   u8 version (1) | u16 n | n × (u32 ageMs | u16 len | record)
 * `ageMs` is how long ago the server heard the record. Records are verified by their
 * authors' signatures like any other; the server is trusted only not to withhold them.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { BoundedReader, BoundedWriter } from '../../core/binary.ts'
import { copyOf } from '../../core/bytes.ts'
import { CerberusError } from '../../core/errors.ts'
import { AnnouncementError, ANNOUNCE_LIMITS, decodeAnnouncement, type Announcement } from './announcement.ts'

/** The protocol id. */
export const ANNOUNCEMENTS_PROTOCOL = '/cerberus/announcements/1.0.0'

/**
 * Bounds, and why.
 * - maxRecords: 256 records (miners first) are more miners than one user picks from; ≤ 1 MiB.
 * - timeoutMs: one round trip to the relay plus its write; a relay that takes longer is
 *   left to gossip.
 * - maxInboundStreams: a peer asks once per connection; a few at once is plenty.
 */
export const SNAPSHOT_LIMITS = Object.freeze({
  maxRecords: 256,
  maxBytes: 3 + 256 * (6 + ANNOUNCE_LIMITS.maxBytes),
  timeoutMs: 5_000,
  maxInboundStreams: 4
})

const VERSION = 1

const bad = (why: string): AnnouncementError => new AnnouncementError('malformed', `announcement snapshot: ${why}`)

/** What the server needs of a table. */
export interface SnapshotSource {
  list: () => ReadonlyArray<{ readonly role: string, readonly receivedAt: number, readonly bytes: Uint8Array }>
}

/** A record from a snapshot: verified, or refused with its typed error. */
export type SnapshotRecord =
  | { readonly ok: true, readonly announcement: Announcement, readonly bytes: Uint8Array, readonly ageMs: number }
  | { readonly ok: false, readonly error: AnnouncementError }

/** The snapshot message of `source`'s records at `now`. */
export function encodeSnapshot (source: SnapshotSource, now: number): Uint8Array {
  const records = [...source.list()]
    .sort((a, b) => Number(b.role === 'miner') - Number(a.role === 'miner') || b.receivedAt - a.receivedAt)
    .slice(0, SNAPSHOT_LIMITS.maxRecords)
  const w = new BoundedWriter({ fail: bad, maxBytes: SNAPSHOT_LIMITS.maxBytes, whole: 'the snapshot' })
  w.u8(VERSION)
  w.u16(records.length)
  for (const r of records) {
    w.u32(Math.min(0xffffffff, Math.max(0, Math.round(now - r.receivedAt))))
    w.u16(r.bytes.length)
    w.bytes(r.bytes)
  }
  return w.done()
}

/**
 * Read a snapshot message; each record is verified on its own (a bad one does not spoil
 * the rest). @throws {AnnouncementError} ('malformed') when the message itself is malformed.
 */
export async function decodeSnapshot (bytes: Uint8Array, now: number): Promise<SnapshotRecord[]> {
  if (bytes.length < 3 || bytes.length > SNAPSHOT_LIMITS.maxBytes) throw bad(`${bytes.length} bytes`)
  const r = new BoundedReader(bytes, { fail: bad, whole: 'it' })
  const version = r.u8('the version')
  if (version !== VERSION) throw bad(`version ${version}`)
  const n = r.u16('the record count')
  if (n > SNAPSHOT_LIMITS.maxRecords) throw bad(`${n} records, more than ${SNAPSHOT_LIMITS.maxRecords}`)
  const out: SnapshotRecord[] = []
  for (let i = 0; i < n; i++) {
    const ageMs = r.u32('a record header')
    const record = copyOf(r.bytes(r.u16('a record header'), 'a record'))
    try {
      out.push({ ok: true, announcement: await decodeAnnouncement(record, undefined, now), bytes: record, ageMs })
    } catch (err) {
      out.push({ ok: false, error: err as AnnouncementError })
    }
  }
  if (r.pos !== bytes.length) throw bad(`${bytes.length - r.pos} bytes after the last record`)
  return out
}

/** Serve `source`'s records on `node`; returns the function that stops serving. */
export async function serveAnnouncements (node: Libp2p, source: SnapshotSource): Promise<() => Promise<void>> {
  await node.handle(ANNOUNCEMENTS_PROTOCOL, async (stream) => {
    try {
      const bytes = encodeSnapshot(source, Date.now())
      if (!stream.send(bytes)) await stream.onDrain({ signal: AbortSignal.timeout(SNAPSHOT_LIMITS.timeoutMs) })
      await stream.close({ signal: AbortSignal.timeout(SNAPSHOT_LIMITS.timeoutMs) })
    } catch (err) {
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: SNAPSHOT_LIMITS.maxInboundStreams })
  return async () => { await node.unhandle(ANNOUNCEMENTS_PROTOCOL) }
}

/**
 * Ask `peer` for its records.
 * @throws when the peer cannot be asked or answers more than the bound or a malformed message.
 */
export async function fetchAnnouncements (node: Libp2p, peer: PeerId, now: number, signal: AbortSignal = AbortSignal.timeout(SNAPSHOT_LIMITS.timeoutMs)): Promise<SnapshotRecord[]> {
  const stream = await node.dialProtocol(peer, ANNOUNCEMENTS_PROTOCOL, { signal })
  let onAbort = (): void => {}
  // the deadline holds even if the stream never ends (aborting a stream that is already closed does nothing)
  const late = new Promise<never>((_resolve, reject) => {
    onAbort = () => {
      const err = new CerberusError('ANNOUNCE_SNAPSHOT_TIMEOUT', `the announcement snapshot from ${peer.toString()} did not arrive in time`)
      stream.abort(err)
      reject(err)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  late.catch(() => {})
  // Read from the start: a libp2p 3 stream's iterator misses a remote close that came
  // before it was created (and the server answers at once), so it must exist first.
  const reading = (async (): Promise<Uint8Array> => {
    const chunks: Uint8Array[] = []
    let total = 0
    for await (const c of stream) {
      const b = c instanceof Uint8Array ? c : c.subarray()
      total += b.length
      if (total > SNAPSHOT_LIMITS.maxBytes) throw new AnnouncementError('malformed', `announcement snapshot of more than ${SNAPSHOT_LIMITS.maxBytes} bytes`)
      chunks.push(b)
    }
    const all = new Uint8Array(total)
    let o = 0
    for (const c of chunks) { all.set(c, o); o += c.length }
    return all
  })()
  reading.catch(() => {}) // handled below; this only keeps an early failure from going unhandled meanwhile
  try {
    await stream.close({ signal })
    const all = await Promise.race([reading, late])
    return await decodeSnapshot(all, now)
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
