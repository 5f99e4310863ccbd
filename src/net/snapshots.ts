/**
 * Record snapshots: a peer that keeps a table of signed gossip records (the relay) hands
 * the latest ones it holds to a peer that just connected, so that peer need not wait for
 * the next round of gossip (see discovery/index.ts for why gossip alone cannot do it).
 * Announcements (discovery/snapshot.ts) and validators' scores (scores/) are served this
 * way, each on its own protocol with its own record decoder and bounds.
 *
 * The server writes one message and closes; the client sends nothing.
 *   u8 version (1) | u16 n | n × (u32 ageMs | u16 len | record)
 * `ageMs` is how long ago the server heard the record. Records are verified by their
 * authors' signatures like any other; the server is trusted only not to withhold them.
 */
import type { IdentifyResult, Libp2p, PeerId } from '@libp2p/interface'
import { BoundedReader, BoundedWriter } from '../core/binary.ts'
import { copyOf } from '../core/bytes.ts'
import { CerberusError } from '../core/errors.ts'

const VERSION = 1

/**
 * Bounds shared by every snapshot, and why.
 * - timeoutMs: one round trip to the relay plus its write; a relay that takes longer is
 *   left to gossip.
 * - maxInboundStreams: a peer asks once per connection; a few at once is plenty.
 */
export const SNAPSHOT_TIMING = Object.freeze({ timeoutMs: 5_000, maxInboundStreams: 4 })

/** What one kind of snapshot is: its protocol, its bounds, its records and their typed error. */
export interface SnapshotSpec<T, E extends Error> {
  /** The protocol id, e.g. `/cerberus/announcements/1.0.0`. */
  readonly protocol: string
  /** Most records in one snapshot (the server sends the first ones it lists). */
  readonly maxRecords: number
  /** Most bytes of one record. */
  readonly maxRecordBytes: number
  /** The format's typed error for a malformed snapshot. */
  readonly malformed: (message: string) => E
  /** Verify one record at local time `now`; throws only the format's typed error. */
  readonly decode: (record: Uint8Array, now: number) => Promise<T>
  /** Any failure of `decode`, as the format's typed error. */
  readonly asError: (err: unknown) => E
  /** Code of the error when the snapshot does not arrive in time. */
  readonly timeoutCode: string
}

/** A record the server holds: its bytes and when it heard them (its clock). */
export interface HeldRecord {
  readonly receivedAt: number
  readonly bytes: Uint8Array
}

/** A record from a snapshot: verified, or refused with its typed error. */
export type SnapshotEntry<T, E> =
  | { readonly ok: true, readonly value: T, readonly bytes: Uint8Array, readonly ageMs: number }
  | { readonly ok: false, readonly error: E }

/** The largest snapshot message of `spec`. */
export function snapshotMaxBytes (spec: Pick<SnapshotSpec<unknown, Error>, 'maxRecords' | 'maxRecordBytes'>): number {
  return 3 + spec.maxRecords * (6 + spec.maxRecordBytes)
}

/** The snapshot message of `records` (in the order given, at most `spec.maxRecords`) at `now`. */
export function encodeRecordSnapshot<E extends Error> (spec: SnapshotSpec<unknown, E>, records: readonly HeldRecord[], now: number): Uint8Array {
  const list = records.slice(0, spec.maxRecords)
  const w = new BoundedWriter({ fail: spec.malformed, maxBytes: snapshotMaxBytes(spec), whole: 'the snapshot' })
  w.u8(VERSION)
  w.u16(list.length)
  for (const r of list) {
    w.u32(Math.min(0xffffffff, Math.max(0, Math.round(now - r.receivedAt))))
    w.u16(r.bytes.length)
    w.bytes(r.bytes)
  }
  return w.done()
}

/**
 * Read a snapshot message; each record is verified on its own (a bad one does not spoil
 * the rest). @throws the format's typed error when the message itself is malformed.
 */
export async function decodeRecordSnapshot<T, E extends Error> (spec: SnapshotSpec<T, E>, bytes: Uint8Array, now: number): Promise<Array<SnapshotEntry<T, E>>> {
  if (bytes.length < 3 || bytes.length > snapshotMaxBytes(spec)) throw spec.malformed(`${bytes.length} bytes`)
  const r = new BoundedReader(bytes, { fail: spec.malformed, whole: 'it' })
  const version = r.u8('the version')
  if (version !== VERSION) throw spec.malformed(`version ${version}`)
  const n = r.u16('the record count')
  if (n > spec.maxRecords) throw spec.malformed(`${n} records, more than ${spec.maxRecords}`)
  const out: Array<SnapshotEntry<T, E>> = []
  for (let i = 0; i < n; i++) {
    const ageMs = r.u32('a record header')
    // an oversized record is refused by `decode` on its own; the total bound holds regardless
    const record = copyOf(r.bytes(r.u16('a record header'), 'a record'))
    try {
      out.push({ ok: true, value: await spec.decode(record, now), bytes: record, ageMs })
    } catch (err) {
      out.push({ ok: false, error: spec.asError(err) })
    }
  }
  if (r.pos !== bytes.length) throw spec.malformed(`${bytes.length - r.pos} bytes after the last record`)
  return out
}

/** Serve `list()`'s records on `node` under `spec.protocol`; returns the function that stops serving. */
export async function serveRecordSnapshot (node: Libp2p, spec: SnapshotSpec<unknown, Error>, list: () => readonly HeldRecord[]): Promise<() => Promise<void>> {
  await node.handle(spec.protocol, async (stream) => {
    try {
      const bytes = encodeRecordSnapshot(spec, list(), Date.now())
      if (!stream.send(bytes)) await stream.onDrain({ signal: AbortSignal.timeout(SNAPSHOT_TIMING.timeoutMs) })
      await stream.close({ signal: AbortSignal.timeout(SNAPSHOT_TIMING.timeoutMs) })
    } catch (err) {
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: SNAPSHOT_TIMING.maxInboundStreams })
  return async () => { await node.unhandle(spec.protocol) }
}

/**
 * Ask `peer` for its records.
 * @throws when the peer cannot be asked or answers more than the bound or a malformed message.
 */
export async function fetchRecordSnapshot<T, E extends Error> (node: Libp2p, peer: PeerId, spec: SnapshotSpec<T, E>, now: number, signal: AbortSignal = AbortSignal.timeout(SNAPSHOT_TIMING.timeoutMs)): Promise<Array<SnapshotEntry<T, E>>> {
  const stream = await node.dialProtocol(peer, spec.protocol, { signal })
  const max = snapshotMaxBytes(spec)
  let onAbort = (): void => {}
  // the deadline holds even if the stream never ends (aborting a stream that is already closed does nothing)
  const late = new Promise<never>((_resolve, reject) => {
    onAbort = () => {
      const err = new CerberusError(spec.timeoutCode, `the snapshot (${spec.protocol}) from ${peer.toString()} did not arrive in time`)
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
      if (total > max) throw spec.malformed(`more than ${max} bytes`)
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
    return await decodeRecordSnapshot(spec, all, now)
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/**
 * Call `onServer` for every peer that serves `protocol` over a direct (unlimited)
 * connection: those identified from now on, and those identified already. Returns the
 * function that stops watching.
 */
export function watchSnapshotServers (node: Libp2p, protocol: string, onServer: (peer: PeerId) => void): () => void {
  const onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { protocols, peerId, connection } = evt.detail
    if (protocols.includes(protocol) && connection.limits === undefined) onServer(peerId)
  }
  node.addEventListener('peer:identify', onIdentify)
  void Promise.all(node.getPeers().map(async peer => {
    const p = await node.peerStore.get(peer).catch(() => undefined)
    if (p?.protocols.includes(protocol) === true) onServer(peer)
  }))
  return () => { node.removeEventListener('peer:identify', onIdentify) }
}
