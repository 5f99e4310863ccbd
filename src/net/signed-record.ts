/**
 * What the mesh's signed records (announcements, validators' score records) share: a body
 * followed by the author's Ed25519 signature over a domain-separating context and the
 * body, and the checks on receipt — the sender is the author, the signature holds, the
 * timestamp is inside [now − maxAgeMs, now + maxSkewMs]. Each record keeps its own fields,
 * bounds, typed error and wording; this module holds only the mechanism.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'

/** Bytes of an Ed25519 signature, the last bytes of every record. */
export const SIGNATURE_BYTES = 64

/** The refusal kinds every signed record shares. */
export type SignedRecordRejection = 'malformed' | 'sender' | 'signature' | 'stale' | 'future'

/** Lowercase hex of `b`. */
export function hex (b: Uint8Array): string {
  return Array.from(b, x => x.toString(16).padStart(2, '0')).join('')
}

/** The bytes of an even-length lowercase hex string (checked by the caller). */
export function unhex (s: string): Uint8Array {
  return Uint8Array.from({ length: s.length / 2 }, (_, i) => parseInt(s.slice(2 * i, 2 * i + 2), 16))
}

/**
 * The Ed25519 public key inside a peer id. `fail` makes the record's typed error;
 * `records` names them in the message ("announcements").
 */
export function ed25519KeyOf (peerId: string, fail: (message: string, cause?: unknown) => Error, records: string): PublicKey {
  let id: PeerId
  try {
    id = peerIdFromString(peerId)
  } catch (err) {
    throw fail(`"${peerId.slice(0, 80)}" is not a peer id`, err)
  }
  if (id.type !== 'Ed25519' || id.publicKey === undefined) throw fail(`peer ${peerId} has a ${id.type} key; ${records} are signed with Ed25519 keys`)
  return id.publicKey
}

function signedBytes (context: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(context.length + body.length)
  out.set(context)
  out.set(body, context.length)
  return out
}

/** `body` followed by `privateKey`'s signature of `context` ‖ `body`. */
export async function signRecord (privateKey: PrivateKey, context: Uint8Array, body: Uint8Array): Promise<Uint8Array> {
  const sig = await privateKey.sign(signedBytes(context, body))
  const out = new Uint8Array(body.length + sig.length)
  out.set(body)
  out.set(sig, body.length)
  return out
}

/** How a record is checked on receipt, and how its refusals read. */
export interface RecordCheck {
  readonly context: Uint8Array
  /** The author's peer id, as the record claims it. */
  readonly author: string
  readonly ts: number
  readonly maxAgeMs: number
  readonly maxSkewMs: number
  /** The record, as messages name it: "the announcement of peer X". */
  readonly it: string
  /** A sender other than the author: its message. */
  readonly wrongSender: (sender: string) => string
  /** The signature could not be checked at all: its message. */
  readonly uncheckable: string
  /** The record's typed error. */
  readonly error: (kind: SignedRecordRejection, message: string, cause?: unknown) => Error
}

/**
 * Check a received record `bytes` (body ‖ signature) whose fields were already read and
 * checked: that `from` (gossipsub's authenticated sender; undefined when a third party
 * handed it on, so only the signature vouches) is the author, the author's `key` signed it,
 * and its time is inside the window at `now`.
 */
export async function verifyRecord (bytes: Uint8Array, key: PublicKey, from: PeerId | string | undefined, now: number, c: RecordCheck): Promise<void> {
  const sender = from === undefined ? c.author : typeof from === 'string' ? from : from.toString()
  if (sender !== c.author) throw c.error('sender', c.wrongSender(sender))
  let ok: boolean
  try {
    ok = await key.verify(signedBytes(c.context, bytes.subarray(0, bytes.length - SIGNATURE_BYTES)), bytes.subarray(bytes.length - SIGNATURE_BYTES))
  } catch (err) {
    throw c.error('signature', c.uncheckable, err)
  }
  if (!ok) throw c.error('signature', `${c.it} is not signed by its key`)
  if (c.ts < now - c.maxAgeMs) throw c.error('stale', `${c.it} is ${Math.round((now - c.ts) / 1000)} s old (at most ${c.maxAgeMs / 1000} s)`)
  if (c.ts > now + c.maxSkewMs) throw c.error('future', `${c.it} is dated ${Math.round((c.ts - now) / 1000)} s ahead (clock skew of at most ${c.maxSkewMs / 1000} s)`)
}
