/**
 * SEAL 4.1's uncompressed serialization of Plaintext and Ciphertext, built and parsed
 * here because SEAL has no API to set or read raw coefficients.
 *
 * Layout (little-endian). SEALHeader, 16 bytes: u16 magic 0xA15E, u8 header size 16,
 * u8 version major 4, u8 minor 1, u8 compression mode, u16 reserved, u64 total size.
 * - Plaintext: header | parms_id 4×u64 | u64 coeff_count | f64 scale |
 *   DynArray (header | u64 count | u64 data[count]); data starts at byte 88.
 * - Ciphertext: header | parms_id 4×u64 | u8 is_ntt | u64 size | u64 N | u64 k | f64 scale |
 *   u64 correction | DynArray (header | u64 count | u64 data[]); data starts at byte 113
 *   (not 8-aligned) and is indexed ((poly·k) + limb)·N + i.
 * - A *seeded* ciphertext (symmetric encryption, serialized) stores only c0 (count = k·N)
 *   followed by the PRNG that regenerates c1: a SEALHeader, u8 PRNG type, 64-byte seed.
 *
 * Coefficients travel as pairs of u32 words (lo, hi) in a Uint32Array, so that nothing
 * here needs BigInt.
 */
import { copyOf } from '../bytes.ts'
import { HeWireError } from './errors.ts'

const MAGIC = 0xa15e
const HEADER = 16
const PT_DATA = 88
const CT_DATA = 113
/** Byte offset of a plaintext's coefficients. */
export const PT_DATA_OFFSET = PT_DATA
/** Byte offset of a ciphertext's coefficients. */
export const CT_DATA_OFFSET = CT_DATA
/** The seed blob after a seeded ciphertext's c0: SEALHeader + u8 type + 64-byte seed. */
export const SEED_BLOB_BYTES = HEADER + 1 + 64

/** Write a SEALHeader (uncompressed, SEAL 4.1) at `off`. */
export function writeSealHeader (dv: DataView, off: number, total: number): void {
  dv.setUint16(off, MAGIC, true)
  dv.setUint8(off + 2, HEADER)
  dv.setUint8(off + 3, 4)
  dv.setUint8(off + 4, 1)
  dv.setUint8(off + 5, 0)
  dv.setUint16(off + 6, 0, true)
  dv.setBigUint64(off + 8, BigInt(total), true)
}

/**
 * Check a SEALHeader at `off` (magic, version 4.1, uncompressed); returns its total size.
 * @throws {HeWireError} otherwise.
 */
export function checkSealHeader (dv: DataView, off: number, what: string): number {
  if (dv.byteLength < off + HEADER) throw new HeWireError(`${what}: ${dv.byteLength} bytes, too short for a SEAL header`)
  if (dv.getUint16(off, true) !== MAGIC) throw new HeWireError(`${what}: not a SEAL object (bad magic)`)
  if (dv.getUint8(off + 3) !== 4 || dv.getUint8(off + 4) !== 1) throw new HeWireError(`${what}: SEAL version ${dv.getUint8(off + 3)}.${dv.getUint8(off + 4)}, expected 4.1`)
  if (dv.getUint8(off + 5) !== 0) throw new HeWireError(`${what}: compressed SEAL object; expected uncompressed`)
  return Number(dv.getBigUint64(off + 8, true))
}

/**
 * Serialized Plaintext with the given coefficients (each < 2^32, already reduced mod t).
 * Non-NTT plaintexts carry a zero parms_id.
 */
export function plaintextBytes (coeffs: Uint32Array): Uint8Array {
  const n = coeffs.length
  const total = PT_DATA + 8 * n
  const buf = new ArrayBuffer(total)
  const dv = new DataView(buf)
  writeSealHeader(dv, 0, total)
  dv.setBigUint64(48, BigInt(n), true)
  dv.setFloat64(56, 1, true)
  writeSealHeader(dv, 64, HEADER + 8 + 8 * n)
  dv.setBigUint64(80, BigInt(n), true)
  const words = new Uint32Array(buf, PT_DATA, 2 * n)
  for (let i = 0; i < n; i++) words[2 * i] = coeffs[i]
  return new Uint8Array(buf)
}

/**
 * The coefficients of a serialized (non-NTT) Plaintext whose values are < 2^32 (a
 * decryption mod t): the low words, length N (missing high coefficients are zero).
 */
export function plaintextCoefficients (bytes: Uint8Array, polyDegree: number): Uint32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  checkSealHeader(dv, 0, 'plaintext')
  const count = Number(dv.getBigUint64(80, true))
  if (count > polyDegree || PT_DATA + 8 * count > bytes.byteLength) throw new HeWireError(`plaintext: ${count} coefficients do not fit`)
  const words = new Uint32Array(copyOf(bytes, PT_DATA, PT_DATA + 8 * count).buffer)
  const out = new Uint32Array(polyDegree)
  for (let i = 0; i < count; i++) out[i] = words[2 * i]
  return out
}

/** The fields of a serialized ciphertext. */
export interface CiphertextFields {
  readonly parmsId: BigUint64Array
  readonly isNtt: boolean
  /** Number of polynomials (2 for a fresh or ct×pt ciphertext). */
  readonly size: number
  readonly polyDegree: number
  /** Number of RNS limbs (primes). */
  readonly limbs: number
  /** (lo, hi) words of data[((poly·k) + limb)·N + i]. */
  readonly words: Uint32Array
}

/** Parse an uncompressed, non-seeded ciphertext. */
export function parseCiphertext (bytes: Uint8Array): CiphertextFields {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const total = checkSealHeader(dv, 0, 'ciphertext')
  if (total !== bytes.byteLength || total < CT_DATA) throw new HeWireError(`ciphertext: header says ${total} bytes, got ${bytes.byteLength}`)
  const { parmsId, polyDegree, limbs, count } = readCiphertextMembers(dv)
  const size = Number(dv.getBigUint64(49, true))
  if (count !== size * polyDegree * limbs || CT_DATA + 8 * count !== total) throw new HeWireError(`ciphertext: ${count} coefficients for size ${size}, N ${polyDegree}, k ${limbs}`)
  return { parmsId, isNtt: dv.getUint8(48) !== 0, size, polyDegree, limbs, words: new Uint32Array(copyOf(bytes, CT_DATA, total).buffer) }
}

// The ciphertext members before the data: header, parms_id, is_ntt, size, N, k, scale,
// correction factor, and the data array's header for `count` coefficients.
function writeCiphertextMembers (out: Uint8Array, total: number, parmsId: BigUint64Array, isNtt: boolean, size: number, polyDegree: number, limbs: number, count: number): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength)
  writeSealHeader(dv, 0, total)
  for (let i = 0; i < 4; i++) dv.setBigUint64(HEADER + 8 * i, parmsId[i], true)
  dv.setUint8(48, isNtt ? 1 : 0)
  dv.setBigUint64(49, BigInt(size), true)
  dv.setBigUint64(57, BigInt(polyDegree), true)
  dv.setBigUint64(65, BigInt(limbs), true)
  dv.setFloat64(73, 1, true)
  dv.setBigUint64(81, 1n, true)
  writeSealHeader(dv, 89, HEADER + 8 + 8 * count)
  dv.setBigUint64(105, BigInt(count), true)
}

// parms_id, N and k of a serialized ciphertext (seeded or not)
function readCiphertextMembers (dv: DataView): { parmsId: BigUint64Array, polyDegree: number, limbs: number, count: number } {
  const parmsId = new BigUint64Array(4)
  for (let i = 0; i < 4; i++) parmsId[i] = dv.getBigUint64(HEADER + 8 * i, true)
  return { parmsId, polyDegree: Number(dv.getBigUint64(57, true)), limbs: Number(dv.getBigUint64(65, true)), count: Number(dv.getBigUint64(105, true)) }
}

/** Serialize a ciphertext from its fields. */
export function ciphertextBytes (f: CiphertextFields): Uint8Array {
  const count = f.size * f.polyDegree * f.limbs
  const total = CT_DATA + 8 * count
  const out = new Uint8Array(total)
  writeCiphertextMembers(out, total, f.parmsId, f.isNtt, f.size, f.polyDegree, f.limbs, count)
  out.set(new Uint8Array(f.words.buffer, f.words.byteOffset, 8 * count), CT_DATA)
  return out
}

/** A seeded (symmetric) ciphertext: c0 and the seed blob that regenerates c1. */
export interface SeededFields {
  readonly parmsId: BigUint64Array
  readonly polyDegree: number
  readonly limbs: number
  /** (lo, hi) words of c0, limb-major. */
  readonly c0: Uint32Array
  /** SEALHeader + PRNG type + seed, exactly as SEAL wrote it. */
  readonly seedBlob: Uint8Array
}

/** Parse SEAL's serialization of a seeded ciphertext. */
export function parseSeeded (bytes: Uint8Array): SeededFields {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const total = checkSealHeader(dv, 0, 'seeded ciphertext')
  if (total !== bytes.byteLength) throw new HeWireError(`seeded ciphertext: header says ${total} bytes, got ${bytes.byteLength}`)
  const { parmsId, polyDegree, limbs, count } = readCiphertextMembers(dv)
  if (count !== polyDegree * limbs || CT_DATA + 8 * count + SEED_BLOB_BYTES !== total) throw new HeWireError('seeded ciphertext: unexpected layout (expected c0 and a seed)')
  return {
    parmsId,
    polyDegree,
    limbs,
    c0: new Uint32Array(copyOf(bytes, CT_DATA, CT_DATA + 8 * count).buffer),
    seedBlob: copyOf(bytes, CT_DATA + 8 * count)
  }
}

/**
 * Rebuild SEAL's seeded-ciphertext serialization (for `Ciphertext.loadFromArray`); with
 * `isNtt`, the NTT-form ciphertext inside a seeded key-switching key.
 */
export function seededBytes (f: SeededFields, isNtt = false): Uint8Array {
  const count = f.polyDegree * f.limbs
  const total = CT_DATA + 8 * count + SEED_BLOB_BYTES
  const out = new Uint8Array(total)
  writeCiphertextMembers(out, total, f.parmsId, isNtt, 2, f.polyDegree, f.limbs, count)
  out.set(new Uint8Array(f.c0.buffer, f.c0.byteOffset, 8 * count), CT_DATA)
  out.set(f.seedBlob, CT_DATA + 8 * count)
  return out
}
