/**
 * The job protocol `/cerberus/linear/2.0.0`: one typed schema for encrypted linear jobs
 * between a user and a miner, as length-prefixed binary frames.
 *
 * Streams are long-lived (2.0.0; 1.0.0 opened one stream per job): a user keeps one
 * stream per miner and pipelines her requests on it; the miner answers each request with
 * one result or error frame carrying the request's `job` id, in any order. No dial, stream
 * opening or protocol negotiation is left on the per-token path. A frame that cannot be
 * decoded ends the stream (after an error frame with an empty job id): a byte stream
 * cannot be resynchronised.
 *
 * Every size is bounded by a named constant, and `decodeMessage` validates everything —
 * version, type, string lengths and encoding, counts, sizes, the plan, that nothing is
 * left over — before any byte can reach SEAL. Ciphertexts travel as raw bytes (the HE
 * wire format of src/core/he/wire.ts), never base64 or JSON. Jobs are idempotent: the same
 * request may be sent to another miner, and two honest miners answer identical bytes.
 *
 * Frame: unsigned LEB128 length, then the body. Body (little-endian):
 *   u8 version (2) | u8 type
 *   type 1, request: str session | str job | str matrix | plan | u32 first | u32 end | u16 n | n × (u32 len | bytes)
 *                    ([first, end) = the output blocks to compute: a big matrix's blocks may be
 *                    split across miners, each answering one range; results come in block order)
 *   type 2, result:  str job | u16 n | n × (u32 len | bytes)
 *   type 3, error:   str job | str code | str message
 *   type 4, keys:    str session | u32 len | bytes  (the session's Galois key set, user → miner,
 *                    once per session and parameter set; src/core/he/galois-keys.ts)
 *   str = u16 byte length | UTF-8
 *   plan = u32 dOut | u32 dIn | str preset | u32 nI | u8 scheme (0 coeff, 1 packed) | u16 batch
 *          [packed: u32 t | u8 orbit levels | u8 vectors per ciphertext | u16 noise bound (1/16 bit)]
 * Version 2 added the plan's scheme, batch and packed fields, and the keys message.
 *
 * A miner answers a request whose session has no Galois keys (never sent, or evicted) with
 * error code {@link ERROR_CODES}.UNKNOWN_KEYS — the user sends the keys again and retries,
 * nothing lost — and a keys message it refuses with BAD_KEYS.
 */
import { BoundedReader, BoundedWriter } from '../binary.ts'
import { copyOf } from '../bytes.ts'
import { CerberusError } from '../errors.ts'
import { MAX_GALOIS_KEY_BYTES } from '../he/galois-keys.ts'
import { planFromData, type PlanData } from '../he/plan.ts'

/** The libp2p protocol id. */
export const LINEAR_PROTOCOL = '/cerberus/linear/2.0.0'
/** Body format version. */
export const LINEAR_PROTOCOL_VERSION = 2
/**
 * Largest frame: a 4096×4096 job is ~1 MiB each way at N = 2048; 32 MiB leaves room for
 * wide FFNs while bounding what one peer can make another buffer.
 */
export const MAX_FRAME_BYTES = 32 << 20
/** Most ciphertexts in one message (a 28,672-row FFN at n_o = 16 needs 1,792). */
export const MAX_CIPHERTEXTS = 4096
/** Largest single ciphertext (N = 16384, 60-bit coefficients, plus headers). */
export const MAX_CIPHERTEXT_BYTES = 1 << 20
/** Identifiers (session, job, matrix): short printable names. */
export const MAX_ID_BYTES = 128
/** Error codes and preset names. */
export const MAX_CODE_BYTES = 64
/** Human-readable error messages. */
export const MAX_MESSAGE_BYTES = 1024
/**
 * Largest Galois key set in a keys message: the HE layer's own bound (1 MiB; a set for
 * N = 4096 is 671 KB), re-checked here so that a frame cannot carry more.
 */
export const MAX_KEY_SET_BYTES = MAX_GALOIS_KEY_BYTES

/** Error codes a miner answers with (beside the HE layer's own: HE_WIRE, HE_JOB, …). */
export const ERROR_CODES = Object.freeze({
  /** The request's session has no Galois keys here (never sent, or evicted): send the keys and retry. */
  UNKNOWN_KEYS: 'UNKNOWN_KEYS',
  /** The keys message was refused (malformed, for other parameters, a wrong element set). */
  BAD_KEYS: 'BAD_KEYS'
} as const)

/** A malformed or oversized frame or message. */
export class ProtocolError extends CerberusError {
  constructor (message: string) {
    super('PROTOCOL', message)
  }
}

/** User → miner: compute a linear job. */
export interface LinearRequest {
  readonly type: 'request'
  readonly session: string
  readonly job: string
  readonly matrix: string
  readonly plan: PlanData
  /** Output blocks [first, end) to compute (default: all of the plan's). */
  readonly blocks?: readonly [number, number]
  readonly ciphertexts: Uint8Array[]
}

/** Miner → user: the result ciphertexts. */
export interface LinearResult {
  readonly type: 'result'
  readonly job: string
  readonly ciphertexts: Uint8Array[]
}

/** Miner → user: the job failed (a typed error: code + message). */
export interface LinearError {
  readonly type: 'error'
  readonly job: string
  readonly code: string
  readonly message: string
}

/** User → miner: the session's Galois key set (public key material; see galois-keys.ts). */
export interface LinearKeys {
  readonly type: 'keys'
  readonly session: string
  readonly keys: Uint8Array
}

/** Every message of the protocol. */
export type LinearMessage = LinearRequest | LinearResult | LinearError | LinearKeys

const TYPE = { request: 1, result: 2, error: 3, keys: 4 } as const
const SCHEME = { coeff: 0, packed: 1 } as const
// The HE wire header of a key set (src/core/he/wire.ts): magic "CBHE", version, kind 5.
const KEY_SET_MAGIC = [0x43, 0x42, 0x48, 0x45]
const KEY_SET_KIND = 5

/** Writes a message body, refusing one larger than a frame. */
function writer (): BoundedWriter {
  return new BoundedWriter({ fail: message => new ProtocolError(message), maxBytes: MAX_FRAME_BYTES, whole: 'the message' })
}

function writeBlobs (w: BoundedWriter, list: readonly Uint8Array[]): void {
  if (list.length > MAX_CIPHERTEXTS) throw new ProtocolError(`${list.length} ciphertexts, more than ${MAX_CIPHERTEXTS}`)
  w.u16(list.length)
  for (const b of list) {
    if (b.length > MAX_CIPHERTEXT_BYTES) throw new ProtocolError(`a ciphertext of ${b.length} bytes, more than ${MAX_CIPHERTEXT_BYTES}`)
    w.u32(b.length)
    w.bytes(b)
  }
}

class Reader extends BoundedReader {
  constructor (buf: Uint8Array) {
    super(buf, { fail: message => new ProtocolError(message), whole: 'message' })
  }

  blobs (): Uint8Array[] {
    const n = this.u16('the ciphertext count')
    if (n > MAX_CIPHERTEXTS) throw new ProtocolError(`${n} ciphertexts, more than ${MAX_CIPHERTEXTS}`)
    const out: Uint8Array[] = []
    for (let i = 0; i < n; i++) {
      const len = this.u32(`the length of ciphertext ${i}`)
      if (len > MAX_CIPHERTEXT_BYTES) throw new ProtocolError(`ciphertext ${i} is ${len} bytes, more than ${MAX_CIPHERTEXT_BYTES}`)
      out.push(copyOf(this.bytes(len, `ciphertext ${i}`)))
    }
    return out
  }

  end (): void {
    if (this.pos !== this.buf.length) throw new ProtocolError(`${this.buf.length - this.pos} bytes after the end of the message`)
  }
}

/** Encode a message body (without the length prefix). */
export function encodeMessage (m: LinearMessage): Uint8Array {
  const w = writer()
  w.u8(LINEAR_PROTOCOL_VERSION)
  w.u8(TYPE[m.type])
  if (m.type === 'request') {
    w.str(m.session, MAX_ID_BYTES, 'the session id')
    w.str(m.job, MAX_ID_BYTES, 'the job id')
    w.str(m.matrix, MAX_ID_BYTES, 'the matrix id')
    w.u32(m.plan.dOut)
    w.u32(m.plan.dIn)
    w.str(m.plan.preset, MAX_CODE_BYTES, 'the preset name')
    w.u32(m.plan.nI)
    writePlanTail(w, m.plan)
    const [first, end] = m.blocks ?? [0, planFromData(m.plan).split.blocks]
    w.u32(first)
    w.u32(end)
    writeBlobs(w, m.ciphertexts)
  } else if (m.type === 'result') {
    w.str(m.job, MAX_ID_BYTES, 'the job id')
    writeBlobs(w, m.ciphertexts)
  } else if (m.type === 'keys') {
    w.str(m.session, MAX_ID_BYTES, 'the session id')
    checkKeySet(m.keys)
    w.u32(m.keys.length)
    w.bytes(m.keys)
  } else {
    w.str(m.job, MAX_ID_BYTES, 'the job id')
    w.str(m.code, MAX_CODE_BYTES, 'the error code')
    w.str(m.message.slice(0, MAX_MESSAGE_BYTES / 4), MAX_MESSAGE_BYTES, 'the error message')
  }
  return w.done()
}

/**
 * Decode and validate a message body.
 * @throws {ProtocolError} for anything malformed, oversized or unknown — and nothing else.
 */
export function decodeMessage (body: Uint8Array): LinearMessage {
  if (body.length > MAX_FRAME_BYTES) throw new ProtocolError(`a message of ${body.length} bytes is more than ${MAX_FRAME_BYTES}`)
  const r = new Reader(body)
  const version = r.u8('the version')
  if (version !== LINEAR_PROTOCOL_VERSION) throw new ProtocolError(`protocol version ${version}, expected ${LINEAR_PROTOCOL_VERSION}`)
  const type = r.u8('the message type')
  let m: LinearMessage
  if (type === TYPE.request) {
    const session = r.str(MAX_ID_BYTES, 'the session id')
    const job = r.str(MAX_ID_BYTES, 'the job id')
    const matrix = r.str(MAX_ID_BYTES, 'the matrix id')
    const head = { dOut: r.u32('the plan'), dIn: r.u32('the plan'), preset: r.str(MAX_CODE_BYTES, 'the preset name'), nI: r.u32('the plan') }
    const plan = readPlanTail(r, head)
    let blocks: number
    try {
      blocks = planFromData(plan).split.blocks
    } catch (err) {
      throw new ProtocolError(`invalid plan: ${(err as Error).message}`)
    }
    const first = r.u32('the block range')
    const end = r.u32('the block range')
    if (!(first < end && end <= blocks)) throw new ProtocolError(`block range [${first}, ${end}) is not a non-empty part of the plan's ${blocks} blocks`)
    m = { type: 'request', session, job, matrix, plan, blocks: [first, end], ciphertexts: r.blobs() }
  } else if (type === TYPE.result) {
    m = { type: 'result', job: r.str(MAX_ID_BYTES, 'the job id'), ciphertexts: r.blobs() }
  } else if (type === TYPE.error) {
    m = { type: 'error', job: r.str(MAX_ID_BYTES, 'the job id'), code: r.str(MAX_CODE_BYTES, 'the error code'), message: r.str(MAX_MESSAGE_BYTES, 'the error message') }
  } else if (type === TYPE.keys) {
    const session = r.str(MAX_ID_BYTES, 'the session id')
    const len = r.u32('the key set length')
    if (len > MAX_KEY_SET_BYTES) throw new ProtocolError(`a key set of ${len} bytes, more than ${MAX_KEY_SET_BYTES}`)
    const keys = copyOf(r.bytes(len, 'the key set'))
    checkKeySet(keys)
    m = { type: 'keys', session, keys }
  } else {
    throw new ProtocolError(`unknown message type ${type}`)
  }
  r.end()
  return m
}

// The plan fields after nI: scheme and batch, then the packed ones. Default values are
// written too, so that the layout depends on the scheme alone.
function writePlanTail (w: BoundedWriter, p: PlanData): void {
  const scheme = p.scheme ?? 'coeff'
  w.u8(SCHEME[scheme])
  const batch = p.batch ?? 1
  if (!Number.isInteger(batch) || batch < 1 || batch > 0xffff) throw new ProtocolError(`batch ${batch} does not fit the plan`)
  w.u16(batch)
  if (scheme === 'packed') {
    w.u32(p.plainModulus ?? 0)
    w.u8(p.orbitLevels ?? 0)
    w.u8(p.vectors ?? 0)
    w.u16(p.noiseBits16 ?? 0)
  }
}

function readPlanTail (r: Reader, head: { dOut: number, dIn: number, preset: string, nI: number }): PlanData {
  const scheme = r.u8('the plan\'s scheme')
  const batch = r.u16('the plan\'s batch')
  if (scheme === SCHEME.coeff) return batch === 1 ? head : { ...head, scheme: 'coeff', batch }
  if (scheme !== SCHEME.packed) throw new ProtocolError(`invalid plan: unknown scheme ${scheme}`)
  return { ...head, scheme: 'packed', batch, plainModulus: r.u32('the plan'), orbitLevels: r.u8('the plan'), vectors: r.u8('the plan'), noiseBits16: r.u16('the plan') }
}

// What the protocol can check of a key set without the HE layer: size and header kind (the
// miner's HE layer validates the rest before SEAL sees it).
function checkKeySet (keys: Uint8Array): void {
  if (keys.length > MAX_KEY_SET_BYTES) throw new ProtocolError(`a key set of ${keys.length} bytes, more than ${MAX_KEY_SET_BYTES}`)
  if (keys.length < 16 || KEY_SET_MAGIC.some((v, i) => keys[i] !== v) || keys[5] !== KEY_SET_KIND) throw new ProtocolError('the keys message does not carry a Cerberus Galois key set')
}

/** Prefix a body with its unsigned LEB128 length (the libp2p length-prefix convention). */
export function frame (body: Uint8Array): Uint8Array {
  const prefix: number[] = []
  let n = body.length
  do {
    let b = n & 0x7f
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    prefix.push(b)
  } while (n > 0)
  const out = new Uint8Array(prefix.length + body.length)
  out.set(prefix)
  out.set(body, prefix.length)
  return out
}

/**
 * Incremental frame decoder: push chunks as they arrive, take whole bodies out. A declared
 * length above {@link MAX_FRAME_BYTES} fails at once (before buffering it), so a peer
 * cannot make us hold more than one bounded frame.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = []
  private buffered = 0

  /**
   * Add bytes; returns every complete frame body now available. The chunk is copied:
   * transports may reuse their buffers once the chunk has been handed over.
   */
  push (chunk: Uint8Array): Uint8Array[] {
    this.chunks.push(copyOf(chunk))
    this.buffered += chunk.length
    const out: Uint8Array[] = []
    for (;;) {
      const all = this.chunks.length === 1 ? this.chunks[0] : this.concat()
      let len = 0
      let shift = 1
      let i = 0
      let complete = false
      while (i < all.length && i < 5) {
        const b = all[i++]
        len += (b & 0x7f) * shift
        shift *= 128
        if ((b & 0x80) === 0) { complete = true; break }
      }
      if (!complete) {
        if (i >= 5) throw new ProtocolError('frame length prefix longer than 5 bytes')
        return out
      }
      if (len > MAX_FRAME_BYTES) throw new ProtocolError(`frame of ${len} bytes announced, more than ${MAX_FRAME_BYTES}`)
      if (all.length < i + len) return out
      out.push(copyOf(all, i, i + len))
      const rest = all.subarray(i + len)
      this.chunks = rest.length > 0 ? [rest] : []
      this.buffered = rest.length
      if (rest.length === 0) return out
    }
  }

  /** Bytes held for an incomplete frame. */
  get pending (): number { return this.buffered }

  private concat (): Uint8Array {
    const all = new Uint8Array(this.buffered)
    let o = 0
    for (const c of this.chunks) { all.set(c, o); o += c.length }
    this.chunks = [all]
    return all
  }
}
