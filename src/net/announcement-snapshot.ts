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
import { CerberusError } from '../core/errors.ts'
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
  const out = new Uint8Array(3 + records.reduce((n, r) => n + 6 + r.bytes.length, 0))
  const dv = new DataView(out.buffer)
  out[0] = VERSION
  dv.setUint16(1, records.length, true)
  let o = 3
  for (const r of records) {
    dv.setUint32(o, Math.min(0xffffffff, Math.max(0, Math.round(now - r.receivedAt))), true)
    dv.setUint16(o + 4, r.bytes.length, true)
    out.set(r.bytes, o + 6)
    o += 6 + r.bytes.length
  }
  return out
}

/**
 * Read a snapshot message; each record is verified on its own (a bad one does not spoil
 * the rest). @throws {AnnouncementError} ('malformed') when the message itself is malformed.
 */
export async function decodeSnapshot (bytes: Uint8Array, now: number): Promise<SnapshotRecord[]> {
  const bad = (why: string): AnnouncementError => new AnnouncementError('malformed', `announcement snapshot: ${why}`)
  if (bytes.length < 3 || bytes.length > SNAPSHOT_LIMITS.maxBytes) throw bad(`${bytes.length} bytes`)
  if (bytes[0] !== VERSION) throw bad(`version ${bytes[0]}`)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const n = dv.getUint16(1, true)
  if (n > SNAPSHOT_LIMITS.maxRecords) throw bad(`${n} records, more than ${SNAPSHOT_LIMITS.maxRecords}`)
  const out: SnapshotRecord[] = []
  let o = 3
  for (let i = 0; i < n; i++) {
    if (o + 6 > bytes.length) throw bad('it ends inside a record header')
    const ageMs = dv.getUint32(o, true)
    const len = dv.getUint16(o + 4, true)
    if (o + 6 + len > bytes.length) throw bad('it ends inside a record')
    const record = bytes.slice(o + 6, o + 6 + len)
    o += 6 + len
    try {
      out.push({ ok: true, announcement: await decodeAnnouncement(record, undefined, now), bytes: record, ageMs })
    } catch (err) {
      out.push({ ok: false, error: err as AnnouncementError })
    }
  }
  if (o !== bytes.length) throw bad(`${bytes.length - o} bytes after the last record`)
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
