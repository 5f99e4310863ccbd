/**
 * Score records: what a validator tells the mesh about one miner — how many known-answer
 * jobs it sent, how many came back exactly right or wrong, and how fast — as a small signed
 * binary record, published on gossipsub ({@link SCORES_TOPIC}).
 *
 * Like announcements (../discovery/announcement.ts), the record carries its own Ed25519
 * signature by the validator's identity key on top of gossipsub's, so it stays verifiable
 * when the relay hands it on to a newcomer. Every size is bounded by {@link SCORE_LIMITS};
 * `decodeScore` validates everything and throws only {@link ScoreError}.
 *
 * Record (little-endian), then the signature:
 *   u8 version (1) | str validatorId | str minerId | 32 B model sha256 | u32 epoch
 *   | u64 ts (ms) | u32 jobs | u32 passed | u32 failed | u32 p50Ms | u32 p95Ms
 *   | 64 B Ed25519 signature
 *   str = u16 byte length | UTF-8
 * The signature covers {@link SCORE_SIGNING_CONTEXT} followed by every byte before it.
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { BoundedReader, BoundedWriter } from '../../core/binary.ts'
import { CerberusError } from '../../core/errors.ts'
import { ed25519KeyOf, hex, signRecord, SIGNATURE_BYTES, unhex, verifyRecord } from '../signed-record.ts'

/** The gossipsub topic of score records. */
export const SCORES_TOPIC = '/cerberus/scores/1'
/** Record format version. */
export const SCORE_VERSION = 1
/** Prefix of the signed bytes (domain separation from announcements and libp2p's own records). */
export const SCORE_SIGNING_CONTEXT = 'cerberus-score-v1:'

/**
 * Bounds of a record, and why.
 * - maxBytes: the fields take at most 1 + 2·66 + 32 + 4 + 8 + 20 + 64 = 261 bytes; 512
 *   leaves room and refuses anything bigger before a signature is checked.
 * - maxPeerIdBytes: an Ed25519 peer id is 52 characters in base58.
 * - maxJobs: a validator's counts for one miner over its life; 2^24 jobs is years of
 *   rounds, and bounds sums over many validators far below 2^53.
 * - maxLatencyMs: a job slower than 10 minutes is a failure (users time out at 20 s).
 * - maxAgeMs: validators publish their records again every 10 s (score-publisher.ts);
 *   gossipsub forgets message ids after ~2 minutes, after which anyone may replay an old
 *   record; 60 s bounds how stale a replayed record can be (as for announcements).
 * - maxSkewMs: honest clocks agree within seconds (NTP); 10 s tolerates a sloppy one.
 */
export const SCORE_LIMITS = Object.freeze({
  maxBytes: 512,
  maxPeerIdBytes: 64,
  maxJobs: 1 << 24,
  maxLatencyMs: 600_000,
  maxAgeMs: 60_000,
  maxSkewMs: 10_000
})

const SHA256_BYTES = 32

/** One validator's results for one miner. */
export interface ScoreRecord {
  readonly v: 1
  /** The validator's peer id (its key signs the record). */
  readonly validatorId: string
  readonly minerId: string
  /** Hex SHA-256 of the model's checkpoint the jobs were for. */
  readonly modelSha256: string
  /** The validator's epoch when it published (it changes keys and peer id for jobs each epoch). */
  readonly epoch: number
  /** When it was made, ms since the epoch (the validator's clock). */
  readonly ts: number
  /** Known-answer jobs sent to the miner; `passed` came back exactly right, `failed` wrong; the rest were not answered. */
  readonly jobs: number
  readonly passed: number
  readonly failed: number
  /** Median and 95th percentile of the answered jobs' round trips, ms (0 when none). */
  readonly p50Ms: number
  readonly p95Ms: number
}

/**
 * Why a record was refused. The first five are found in the record itself (decodeScore);
 * 'replayed' (not newer than the record held), 'rate' (too many from one validator),
 * 'model' (no announced miner serves it) and 'full' (too many validators or miners) by the
 * book that keeps them (score-book.ts).
 */
export type ScoreRejection = 'malformed' | 'sender' | 'signature' | 'stale' | 'future' | 'replayed' | 'rate' | 'model' | 'full'

/** A record refused: `reason` says which check failed (the code is `SCORE_<REASON>`). */
export class ScoreError extends CerberusError {
  readonly reason: ScoreRejection
  constructor (reason: ScoreRejection, message: string, cause?: unknown) {
    super(`SCORE_${reason.toUpperCase()}`, message, { cause })
    this.reason = reason
  }
}

const HEX_SHA256 = /^[0-9a-f]{64}$/
const context = new TextEncoder().encode(SCORE_SIGNING_CONTEXT)
const malformed = (message: string, cause?: unknown): ScoreError => new ScoreError('malformed', message, cause)

const ed25519Key = (peerId: string): ReturnType<typeof ed25519KeyOf> => ed25519KeyOf(peerId, malformed, 'score records')

/** Check the fields (both when making and when reading a record). @throws {ScoreError} */
function checkFields (s: ScoreRecord): void {
  const L = SCORE_LIMITS
  for (const [name, v, max] of [['jobs', s.jobs, L.maxJobs], ['passed', s.passed, L.maxJobs], ['failed', s.failed, L.maxJobs], ['p50Ms', s.p50Ms, L.maxLatencyMs], ['p95Ms', s.p95Ms, L.maxLatencyMs], ['epoch', s.epoch, 0xffffffff]] as const) {
    if (!Number.isSafeInteger(v) || v < 0 || v > max) throw malformed(`${name} ${v} is not a whole number in [0, ${max}]`)
  }
  if (s.passed + s.failed > s.jobs) throw malformed(`${s.passed} passed and ${s.failed} failed of only ${s.jobs} jobs`)
  if (s.p50Ms > s.p95Ms) throw malformed(`the median latency ${s.p50Ms} ms is above the 95th percentile ${s.p95Ms} ms`)
  if (!Number.isSafeInteger(s.ts) || s.ts < 0) throw malformed(`timestamp ${s.ts} is not a whole number of ms`)
  if (!HEX_SHA256.test(s.modelSha256)) throw malformed('the model sha256 is not 64 lowercase hex digits')
  if (s.validatorId === s.minerId) throw malformed(`peer ${s.validatorId} scores itself`)
  ed25519Key(s.minerId)
}

/**
 * Encode and sign `s` with the validator's own key (whose id must be `s.validatorId`).
 * @throws {ScoreError} ('malformed') when a field is out of bounds or the key is not the validator's.
 */
export async function signScore (privateKey: PrivateKey, s: ScoreRecord): Promise<Uint8Array> {
  if (privateKey.type !== 'Ed25519') throw malformed(`score records are signed with Ed25519 keys, not ${privateKey.type}`)
  if (peerIdFromPrivateKey(privateKey).toString() !== s.validatorId) throw malformed(`the key is not the key of validator ${s.validatorId}`)
  checkFields(s)
  const L = SCORE_LIMITS
  const w = new BoundedWriter({ fail: malformed, maxBytes: L.maxBytes - SIGNATURE_BYTES, whole: 'the record' })
  w.u8(SCORE_VERSION)
  w.str(s.validatorId, L.maxPeerIdBytes, 'the validator id')
  w.str(s.minerId, L.maxPeerIdBytes, 'the miner id')
  w.bytes(unhex(s.modelSha256))
  w.u32(s.epoch)
  w.u64(s.ts)
  for (const v of [s.jobs, s.passed, s.failed, s.p50Ms, s.p95Ms]) w.u32(v)
  return await signRecord(privateKey, context, w.done())
}

/**
 * Read and verify a record received from `from` (gossipsub's authenticated sender; or
 * `undefined` for a record handed on by a third party, which only its signature vouches
 * for) at local time `now` (ms). Checks, in order: size, structure and bounds, that the
 * validator is the sender, its signature, and the window [now − maxAgeMs, now + maxSkewMs].
 * @throws {ScoreError} and nothing else, whatever the bytes.
 */
export async function decodeScore (bytes: Uint8Array, from: PeerId | string | undefined, now: number): Promise<ScoreRecord> {
  const L = SCORE_LIMITS
  if (!(bytes instanceof Uint8Array)) throw malformed('the record is not bytes')
  if (bytes.length > L.maxBytes) throw malformed(`the record is ${bytes.length} bytes, more than ${L.maxBytes}`)
  if (bytes.length < SIGNATURE_BYTES + 1) throw malformed(`the record is only ${bytes.length} bytes`)
  const r = new BoundedReader(bytes.subarray(0, bytes.length - SIGNATURE_BYTES), { fail: malformed, whole: 'the record' })
  const version = r.u8('the version')
  if (version !== SCORE_VERSION) throw malformed(`version ${version}, expected ${SCORE_VERSION}`)
  const validatorId = r.str(L.maxPeerIdBytes, 'the validator id')
  const minerId = r.str(L.maxPeerIdBytes, 'the miner id')
  const modelSha256 = hex(r.bytes(SHA256_BYTES, 'the model hash'))
  const epoch = r.u32('the epoch')
  const ts = r.u64('the timestamp')
  const [jobs, passed, failed, p50Ms, p95Ms] = ['jobs', 'passed', 'failed', 'the median latency', 'the 95th percentile'].map(what => r.u32(what))
  if (r.pos !== bytes.length - SIGNATURE_BYTES) throw malformed(`${bytes.length - SIGNATURE_BYTES - r.pos} bytes before the signature belong to no field`)
  const s: ScoreRecord = { v: 1, validatorId, minerId, modelSha256, epoch, ts, jobs, passed, failed, p50Ms, p95Ms }
  const key = ed25519Key(validatorId)
  checkFields(s)

  await verifyRecord(bytes, key, from, now, {
    context,
    author: validatorId,
    ts,
    maxAgeMs: L.maxAgeMs,
    maxSkewMs: L.maxSkewMs,
    it: `the score record of validator ${validatorId}`,
    wrongSender: sender => `peer ${sender} sent a score record of validator ${validatorId}`,
    uncheckable: `the signature of validator ${validatorId}'s score record could not be checked`,
    error: (kind, message, cause) => new ScoreError(kind, message, cause)
  })
  return s
}
