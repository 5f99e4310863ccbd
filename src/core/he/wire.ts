/**
 * The wire format of HE objects — versioned, bounded, and validated before SEAL sees it.
 *
 * Two objects cross the wire:
 * - an **input ciphertext** (user → miner): SEAL's seeded symmetric ciphertext, with c0
 *   bit-packed at the prime's width (54 bits instead of SEAL's 64) and the 81-byte seed
 *   blob from which the miner's SEAL regenerates c1;
 * - a **result ciphertext** (miner → user): only what decryption of the useful
 *   coefficients needs — all of c1 and c0 at the n_o result positions — rounded from
 *   q down to 2^b (a modulus switch done by hand: decryption stays exact while the noise
 *   added, at most (N+1)·q/2^(b+1) per coefficient, stays below q/(8t); see
 *   `resultBits`).
 *
 * Layout, little-endian:
 *   magic "CBHE" | u8 version | u8 kind | u16 log2 N | u64 parms fingerprint | body
 *   input  (kind 1): u8 prime bits | u8[3] 0 | c0: N × bits, packed | seed blob (81 B)
 *   result (kind 2): u8 b | u8[3] 0 | u32 rows | u32 stride n_i | c1: N × b | c0: rows × b
 * Lengths are exact: anything shorter or longer is refused.
 */
import { copyOf } from '../bytes.ts'
import { packedBytes, packWords, unpackWords } from './bitpack.ts'
import { HeWireError } from './errors.ts'
import { SEED_BLOB_BYTES } from './seal-bytes.ts'

/** Wire format version; bump on any layout change. */
export const HE_WIRE_VERSION = 1
const MAGIC = [0x43, 0x42, 0x48, 0x45] // "CBHE"
/** Bytes of the common header (magic, version, kind, log2 N, fingerprint). */
export const HEADER_BYTES = 16
const KIND_INPUT = 1
const KIND_RESULT = 2
/** Object kinds of the packed scheme (packed-wire.ts, galois-keys.ts). */
export const KIND_PACKED_INPUT = 3
export const KIND_PACKED_RESULT = 4
export const KIND_GALOIS_KEYS = 5
/** Largest ring accepted on the wire (N = 2^15): bounds every allocation a peer can cause. */
export const MAX_LOG2_N = 15
/** Widest coefficient accepted (SEAL primes are ≤ 60 bits). */
export const MAX_COEFF_BITS = 60

/** The first u64 of SEAL's parms_id: which parameters an object belongs to. */
export function parmsFingerprint (parmsId: BigUint64Array): bigint {
  return parmsId[0]
}

/** Write the common header; returns a view over `out`. */
export function writeHeader (out: Uint8Array, kind: number, polyDegree: number, fingerprint: bigint): DataView {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength)
  out.set(MAGIC, 0)
  dv.setUint8(4, HE_WIRE_VERSION)
  dv.setUint8(5, kind)
  dv.setUint16(6, Math.log2(polyDegree), true)
  dv.setBigUint64(8, fingerprint, true)
  return dv
}

/**
 * Check the common header of an object of `kind` for a ring and parameter set.
 * @throws {HeWireError} naming `what` is wrong.
 */
export function readHeader (bytes: Uint8Array, kind: number, expect: { polyDegree: number, fingerprint: bigint }, what: string): DataView {
  if (bytes.byteLength < HEADER_BYTES + 4) throw new HeWireError(`${what}: ${bytes.byteLength} bytes is too short`)
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) throw new HeWireError(`${what}: not a Cerberus HE object (bad magic)`)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = dv.getUint8(4)
  if (version !== HE_WIRE_VERSION) throw new HeWireError(`${what}: wire version ${version}, expected ${HE_WIRE_VERSION}`)
  if (dv.getUint8(5) !== kind) throw new HeWireError(`${what}: object kind ${dv.getUint8(5)}, expected ${kind}`)
  const log2n = dv.getUint16(6, true)
  if (log2n > MAX_LOG2_N || 2 ** log2n !== expect.polyDegree) throw new HeWireError(`${what}: ring degree 2^${log2n}, expected ${expect.polyDegree}`)
  if (dv.getBigUint64(8, true) !== expect.fingerprint) throw new HeWireError(`${what}: encrypted under other parameters (fingerprint mismatch)`)
  return dv
}

/** An input ciphertext: c0 words (lo, hi) and SEAL's seed blob. */
export interface InputCiphertext {
  readonly c0: Uint32Array
  readonly seedBlob: Uint8Array
}

/** Exact size of an input ciphertext on the wire. */
export function inputWireBytes (polyDegree: number, primeBits: number): number {
  return HEADER_BYTES + 4 + packedBytes(polyDegree, primeBits) + SEED_BLOB_BYTES
}

/** Encode an input ciphertext (single-prime q). */
export function encodeInput (ct: InputCiphertext, polyDegree: number, primeBits: number, fingerprint: bigint): Uint8Array {
  const out = new Uint8Array(inputWireBytes(polyDegree, primeBits))
  writeHeader(out, KIND_INPUT, polyDegree, fingerprint)
  out[HEADER_BYTES] = primeBits
  packWords(ct.c0, polyDegree, primeBits, out, HEADER_BYTES + 4)
  out.set(ct.seedBlob, out.length - SEED_BLOB_BYTES)
  return out
}

/**
 * Decode and validate an input ciphertext for a ring of `polyDegree` and prime `prime`.
 * @throws {HeWireError} for a wrong header, length, seed blob, or a coefficient ≥ q.
 */
export function decodeInput (bytes: Uint8Array, expect: { polyDegree: number, fingerprint: bigint, prime: bigint, primeBits: number }): InputCiphertext {
  readHeader(bytes, KIND_INPUT, expect, 'input ciphertext')
  if (bytes[HEADER_BYTES] !== expect.primeBits) throw new HeWireError(`input ciphertext: ${bytes[HEADER_BYTES]}-bit coefficients, expected ${expect.primeBits}`)
  const size = inputWireBytes(expect.polyDegree, expect.primeBits)
  if (bytes.byteLength !== size) throw new HeWireError(`input ciphertext: ${bytes.byteLength} bytes, expected exactly ${size}`)
  const c0 = unpackWords(bytes, HEADER_BYTES + 4, expect.polyDegree, expect.primeBits)
  checkBelow(c0, expect.polyDegree, expect.prime, 'input ciphertext')
  const seedBlob = copyOf(bytes, bytes.length - SEED_BLOB_BYTES)
  checkSeedBlob(seedBlob, 'input ciphertext')
  return { c0, seedBlob }
}

/**
 * Every one of `count` (lo, hi) words is below `prime`.
 * @throws {HeWireError} naming the first that is not.
 */
export function checkBelow (words: Uint32Array, count: number, prime: bigint, what: string): void {
  const qHi = Number(prime >> 32n)
  const qLo = Number(prime & 0xffffffffn)
  for (let i = 0; i < count; i++) {
    const hi = words[2 * i + 1]
    if (hi > qHi || (hi === qHi && words[2 * i] >= qLo)) throw new HeWireError(`${what}: coefficient ${i} is not below the modulus`)
  }
}

/**
 * A SEAL seed blob: a SEAL header (magic A15E, 81 bytes) + PRNG type (1 = Blake2xb,
 * 2 = Shake256) + 64-byte seed.
 * @throws {HeWireError} when it is anything else.
 */
export function checkSeedBlob (seedBlob: Uint8Array, what: string): void {
  const blob = new DataView(seedBlob.buffer, seedBlob.byteOffset, seedBlob.byteLength)
  if (seedBlob.byteLength !== SEED_BLOB_BYTES || blob.getUint16(0, true) !== 0xa15e || blob.getBigUint64(8, true) !== BigInt(SEED_BLOB_BYTES) || (seedBlob[16] !== 1 && seedBlob[16] !== 2)) {
    throw new HeWireError(`${what}: malformed PRNG seed`)
  }
}

/** A result ciphertext: c1 and c0 at the result positions, in 2^b-scaled words. */
export interface ResultCiphertext {
  /** Bits per coefficient after the modulus switch. */
  readonly bits: number
  /** Result rows (positions r·stride + stride − 1, r < rows). */
  readonly rows: number
  /** n_i of the split. */
  readonly stride: number
  /** N words pairs (lo, hi). */
  readonly c1: Uint32Array
  /** rows word pairs. */
  readonly c0: Uint32Array
}

/** Exact size of a result ciphertext on the wire. */
export function resultWireBytes (polyDegree: number, bits: number, rows: number): number {
  return HEADER_BYTES + 12 + packedBytes(polyDegree + rows, bits)
}

/** Encode a result ciphertext. */
export function encodeResult (ct: ResultCiphertext, polyDegree: number, fingerprint: bigint): Uint8Array {
  const out = new Uint8Array(resultWireBytes(polyDegree, ct.bits, ct.rows))
  const dv = writeHeader(out, KIND_RESULT, polyDegree, fingerprint)
  out[HEADER_BYTES] = ct.bits
  dv.setUint32(HEADER_BYTES + 4, ct.rows, true)
  dv.setUint32(HEADER_BYTES + 8, ct.stride, true)
  const words = new Uint32Array(2 * (polyDegree + ct.rows))
  words.set(ct.c1.subarray(0, 2 * polyDegree))
  words.set(ct.c0.subarray(0, 2 * ct.rows), 2 * polyDegree)
  packWords(words, polyDegree + ct.rows, ct.bits, out, HEADER_BYTES + 12)
  return out
}

/**
 * Decode and validate a result ciphertext.
 * @throws {HeWireError} for a wrong header, bit width, row layout or length.
 */
export function decodeResult (bytes: Uint8Array, expect: { polyDegree: number, fingerprint: bigint, bits: number, rows: number, stride: number }): ResultCiphertext {
  const dv = readHeader(bytes, KIND_RESULT, expect, 'result ciphertext')
  const bits = bytes[HEADER_BYTES]
  const rows = dv.getUint32(HEADER_BYTES + 4, true)
  const stride = dv.getUint32(HEADER_BYTES + 8, true)
  if (bits !== expect.bits) throw new HeWireError(`result ciphertext: ${bits}-bit coefficients, expected ${expect.bits}`)
  if (rows !== expect.rows || stride !== expect.stride) throw new HeWireError(`result ciphertext: ${rows} rows with stride ${stride}, expected ${expect.rows} with stride ${expect.stride}`)
  const size = resultWireBytes(expect.polyDegree, bits, rows)
  if (bytes.byteLength !== size) throw new HeWireError(`result ciphertext: ${bytes.byteLength} bytes, expected exactly ${size}`)
  const words = unpackWords(bytes, HEADER_BYTES + 12, expect.polyDegree + rows, bits)
  return { bits, rows, stride, c1: words.subarray(0, 2 * expect.polyDegree), c0: words.subarray(2 * expect.polyDegree) }
}
