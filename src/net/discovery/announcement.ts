/**
 * Announcements: what a peer tells the mesh about itself — its role, where to dial it,
 * which model it serves — as a small signed binary record, published on gossipsub.
 *
 * The record carries its own Ed25519 signature by the peer's identity key, on top of
 * gossipsub's message signature, so that it stays verifiable when someone other than its
 * author hands it on (the relay serves the latest records to peers that just arrived, see
 * discovery.ts). Every size is bounded by {@link ANNOUNCE_LIMITS}; `decodeAnnouncement`
 * validates everything and throws only {@link AnnouncementError}.
 *
 * Record (little-endian), then the signature:
 *   u8 version (1) | u8 role (1 miner, 2 user, 3 validator) | str peerId | u64 ts (ms)
 *   | u32 capacity | u32 load | u8 n | n × str addr | u8 hasModel [| str name | 32 B sha256]
 *   | u8 n | n × str preset | 64 B Ed25519 signature
 *   str = u16 byte length | UTF-8
 * The signature covers {@link SIGNING_CONTEXT} followed by every byte before it, so it can
 * be mistaken for no other message the same key signs (libp2p signs peer records and
 * gossipsub messages with its own prefixes).
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { CerberusError } from '../../core/errors.ts'
import { BoundedReader, BoundedWriter } from '../../core/binary.ts'
import { ed25519KeyOf, hex, signRecord, SIGNATURE_BYTES, unhex, verifyRecord } from '../signed-record.ts'

/** The gossipsub topic of announcements. */
export const ANNOUNCE_TOPIC = 'cerberus/announce/1'
/** Record format version. */
export const ANNOUNCE_VERSION = 1
/** Prefix of the signed bytes (domain separation). */
export const SIGNING_CONTEXT = 'cerberus-announce-v1:'

/**
 * Bounds of a record, and why.
 * - maxBytes: the worst case the other bounds allow is ~2.7 KiB; real records are ~300 B.
 * - maxAddrs / maxAddrBytes: a peer has a few listen addresses; a relayed WebRTC address
 *   (relay /ws address + /p2p-circuit/webrtc/p2p/…) is ~170 characters.
 * - maxPresets / maxPresetBytes: there are three secure presets today (n2048…n8192).
 * - maxModelNameBytes: a file or catalogue name.
 * - maxCapacity / maxLoad: workers and queued jobs; far above a browser's or a server's.
 * - maxAgeMs: gossipsub forgets message ids after ~2 minutes, after which anyone may replay
 *   an old record of a miner (say, one that has since gone); 60 s bounds how stale a
 *   replayed record can be, and the peer table ignores records older than the one it has.
 * - maxSkewMs: clocks of honest peers agree within a few seconds (NTP); 10 s tolerates a
 *   sloppy clock, while a record dated far ahead cannot pin itself in tables (a newer ts
 *   wins) or dodge the age bound.
 */
export const ANNOUNCE_LIMITS = Object.freeze({
  maxBytes: 4096,
  maxAddrs: 8,
  maxAddrBytes: 256,
  maxPresets: 8,
  maxPresetBytes: 32,
  maxModelNameBytes: 64,
  maxPeerIdBytes: 64,
  maxCapacity: 1024,
  maxLoad: 1 << 20,
  maxAgeMs: 60_000,
  maxSkewMs: 10_000
})

const SHA256_BYTES = 32

/** What a peer serves. */
export type AnnouncedRole = 'miner' | 'user' | 'validator'

/** A peer's announcement. */
export interface Announcement {
  readonly v: 1
  readonly peerId: string
  readonly role: AnnouncedRole
  /** Dialable multiaddrs ending in /p2p/<peerId>: /ws for Node miners, /p2p-circuit/webrtc for browsers. */
  readonly addrs: readonly string[]
  /** The model served: a name and the hex SHA-256 of the checkpoint file's bytes. */
  readonly model?: { readonly name: string, readonly sha256: string }
  /** HE parameter presets served (names of src/core/he/params.ts). */
  readonly presets: readonly string[]
  /** Workers. */
  readonly capacity: number
  /** Jobs queued now. */
  readonly load: number
  /** When it was made, ms since the epoch (the author's clock). */
  readonly ts: number
}

/** Why a record was refused. */
export type AnnouncementRejection = 'malformed' | 'sender' | 'signature' | 'stale' | 'future'

/**
 * A record that is not a valid announcement: `reason` says which check failed (the code is
 * `ANNOUNCE_<REASON>`). 'stale' and 'future' records are genuine but outside the time window.
 */
export class AnnouncementError extends CerberusError {
  readonly reason: AnnouncementRejection
  constructor (reason: AnnouncementRejection, message: string, cause?: unknown) {
    super(`ANNOUNCE_${reason.toUpperCase()}`, message, { cause })
    this.reason = reason
  }
}

const ROLES: readonly AnnouncedRole[] = ['miner', 'user', 'validator'] // wire value = index + 1
const PRESET_NAME = /^[a-z0-9-]+$/
const HEX_SHA256 = /^[0-9a-f]{64}$/
const enc = new TextEncoder()
const context = enc.encode(SIGNING_CONTEXT)

const malformed = (message: string, cause?: unknown): AnnouncementError => new AnnouncementError('malformed', message, cause)

/** The peer's Ed25519 public key, from its id. @throws {AnnouncementError} */
const ed25519Key = (peerId: string): ReturnType<typeof ed25519KeyOf> => ed25519KeyOf(peerId, malformed, 'announcements')

/** Check the fields a record carries (both when making and when reading one). @throws {AnnouncementError} */
function checkFields (a: Announcement): void {
  const L = ANNOUNCE_LIMITS
  if (!ROLES.includes(a.role)) throw malformed(`unknown role "${String(a.role)}"`)
  for (const [name, v, max] of [['capacity', a.capacity, L.maxCapacity], ['load', a.load, L.maxLoad]] as const) {
    if (!Number.isSafeInteger(v) || v < 0 || v > max) throw malformed(`${name} ${v} is not a whole number in [0, ${max}]`)
  }
  if (!Number.isSafeInteger(a.ts) || a.ts < 0) throw malformed(`timestamp ${a.ts} is not a whole number of ms`)
  if (a.addrs.length > L.maxAddrs) throw malformed(`${a.addrs.length} addresses, more than ${L.maxAddrs}`)
  for (const addr of a.addrs) {
    if (enc.encode(addr).length > L.maxAddrBytes) throw malformed(`an address of more than ${L.maxAddrBytes} bytes`)
    let last: string | undefined
    try {
      last = multiaddr(addr).getComponents().findLast(c => c.name === 'p2p')?.value
    } catch (err) {
      throw malformed(`"${addr.slice(0, 80)}" is not a multiaddr`, err)
    }
    // an address that names another identity would send users to someone else
    if (last !== a.peerId) throw malformed(`address ${addr} does not end in /p2p/${a.peerId}`)
  }
  if (a.presets.length > L.maxPresets) throw malformed(`${a.presets.length} presets, more than ${L.maxPresets}`)
  for (const p of a.presets) if (p.length > L.maxPresetBytes || !PRESET_NAME.test(p)) throw malformed(`bad preset name "${p.slice(0, 40)}"`)
  if (a.model !== undefined) {
    const n = enc.encode(a.model.name).length
    if (n === 0 || n > L.maxModelNameBytes) throw malformed(`model name of ${n} bytes (1..${L.maxModelNameBytes})`)
    if (!HEX_SHA256.test(a.model.sha256)) throw malformed('model sha256 is not 64 lowercase hex digits')
  }
}

/**
 * Encode and sign `a` with the peer's own key (whose id must be `a.peerId`).
 * @throws {AnnouncementError} ('malformed') when a field is out of bounds or the key is not the peer's.
 */
export async function signAnnouncement (privateKey: PrivateKey, a: Announcement): Promise<Uint8Array> {
  if (privateKey.type !== 'Ed25519') throw malformed(`announcements are signed with Ed25519 keys, not ${privateKey.type}`)
  if (peerIdFromPrivateKey(privateKey).toString() !== a.peerId) throw malformed(`the key is not the key of peer ${a.peerId}`)
  checkFields(a)
  const w = new BoundedWriter({ fail: malformed, maxBytes: ANNOUNCE_LIMITS.maxBytes, whole: 'the record' })
  w.u8(ANNOUNCE_VERSION)
  w.u8(ROLES.indexOf(a.role) + 1)
  w.str(a.peerId, ANNOUNCE_LIMITS.maxPeerIdBytes, 'the peer id')
  w.u64(a.ts)
  w.u32(a.capacity)
  w.u32(a.load)
  w.u8(a.addrs.length)
  for (const addr of a.addrs) w.str(addr, ANNOUNCE_LIMITS.maxAddrBytes, 'an address')
  w.u8(a.model === undefined ? 0 : 1)
  if (a.model !== undefined) {
    w.str(a.model.name, ANNOUNCE_LIMITS.maxModelNameBytes, 'the model name')
    w.bytes(unhex(a.model.sha256))
  }
  w.u8(a.presets.length)
  for (const p of a.presets) w.str(p, ANNOUNCE_LIMITS.maxPresetBytes, 'a preset')
  const out = await signRecord(privateKey, context, w.done())
  if (out.length > ANNOUNCE_LIMITS.maxBytes) throw malformed(`the record is ${out.length} bytes, more than ${ANNOUNCE_LIMITS.maxBytes}`)
  return out
}

/**
 * Read and verify a record received from `from` (gossipsub's authenticated sender; or
 * `undefined` for a record handed on by a third party, which only its signature vouches for)
 * at local time `now` (ms). Checks, in order: structure and bounds, that the author is the
 * sender, the signature by the author's key, and the time window
 * [now − maxAgeMs, now + maxSkewMs].
 * @throws {AnnouncementError} and nothing else, whatever the bytes.
 */
export async function decodeAnnouncement (bytes: Uint8Array, from: PeerId | string | undefined, now: number): Promise<Announcement> {
  const L = ANNOUNCE_LIMITS
  if (!(bytes instanceof Uint8Array)) throw malformed('the record is not bytes')
  if (bytes.length > L.maxBytes) throw malformed(`the record is ${bytes.length} bytes, more than ${L.maxBytes}`)
  if (bytes.length < SIGNATURE_BYTES + 2) throw malformed(`the record is only ${bytes.length} bytes`)
  const r = new BoundedReader(bytes.subarray(0, bytes.length - SIGNATURE_BYTES), { fail: malformed, whole: 'the record' })
  const version = r.u8('the version')
  if (version !== ANNOUNCE_VERSION) throw malformed(`version ${version}, expected ${ANNOUNCE_VERSION}`)
  const role = ROLES[r.u8('the role') - 1]
  if (role === undefined) throw malformed('unknown role')
  const peerId = r.str(L.maxPeerIdBytes, 'the peer id')
  const ts = r.u64('the timestamp')
  const capacity = r.u32('the capacity')
  const load = r.u32('the load')
  const nAddrs = r.u8('the address count')
  if (nAddrs > L.maxAddrs) throw malformed(`${nAddrs} addresses, more than ${L.maxAddrs}`)
  const addrs = Array.from({ length: nAddrs }, () => r.str(L.maxAddrBytes, 'an address'))
  const hasModel = r.u8('the model flag')
  if (hasModel > 1) throw malformed(`model flag ${hasModel}`)
  const model = hasModel === 1 ? { name: r.str(L.maxModelNameBytes, 'the model name'), sha256: hex(r.bytes(SHA256_BYTES, 'the model hash')) } : undefined
  const nPresets = r.u8('the preset count')
  if (nPresets > L.maxPresets) throw malformed(`${nPresets} presets, more than ${L.maxPresets}`)
  const presets = Array.from({ length: nPresets }, () => r.str(L.maxPresetBytes, 'a preset'))
  if (r.pos !== bytes.length - SIGNATURE_BYTES) throw malformed(`${bytes.length - SIGNATURE_BYTES - r.pos} bytes before the signature belong to no field`)
  const a: Announcement = { v: 1, peerId, role, addrs, ...(model === undefined ? {} : { model }), presets, capacity, load, ts }
  const key = ed25519Key(peerId)
  checkFields(a)

  await verifyRecord(bytes, key, from, now, {
    context,
    author: peerId,
    ts,
    maxAgeMs: L.maxAgeMs,
    maxSkewMs: L.maxSkewMs,
    it: `the announcement of peer ${peerId}`,
    wrongSender: sender => `peer ${sender} sent an announcement of peer ${peerId}`,
    uncheckable: `the signature of peer ${peerId}'s announcement could not be checked`,
    error: (kind, message, cause) => new AnnouncementError(kind, message, cause)
  })
  return a
}
