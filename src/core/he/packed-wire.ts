/**
 * Wire formats of the packed scheme's ciphertexts — versioned (the common header of
 * wire.ts), exactly sized, validated before SEAL sees a byte.
 *
 * - **packed input** (kind 3, user → miner): a seeded ciphertext like kind 1, plus the id of
 *   the Galois key set it was encrypted for, so a miner refuses inputs of another user (or
 *   another key set) instead of computing garbage with the wrong keys.
 * - **packed result** (kind 4, miner → user): one tree's result, or the part of it a block
 *   range covers — c1 whole at b1 bits and c0 at the useful coefficients only at b0 bits, each
 *   rounded from q separately to the widths the noise bound allows (packed-noise.ts).
 *
 * Layout after the 16-byte header, little-endian:
 *   input  (kind 3): u8 prime bits | u8[7] 0 | u64 key id | c0: N × bits | seed blob (81 B)
 *   result (kind 4): u8 b0 | u8 b1 | u16 tree | u32 first | u32 end | u32 count | u32 zeros |
 *                    zeros × u32 block | c1: N × b1 | c0: count × b0
 * `zeros` lists the blocks whose weights are all zero (their results are 0, and are not in
 * the ciphertext: SEAL refuses the transparent ciphertexts they would make); count is the
 * number of results of the other blocks of [first, end).
 */
import { copyOf } from '../bytes.ts'
import { packedBytes, packWords, unpackWords } from './bitpack.ts'
import { HeWireError } from './errors.ts'
import { outputPositions, type PackedLayout } from './packed-layout.ts'
import { SEED_BLOB_BYTES } from './seal-bytes.ts'
import { checkBelow, checkSeedBlob, HEADER_BYTES, KIND_PACKED_INPUT, KIND_PACKED_RESULT, readHeader, writeHeader } from './wire.ts'

const INPUT_BODY = 16
const RESULT_BODY = 20

/** A packed input ciphertext: c0 words (lo, hi), SEAL's seed blob, and the key set's id. */
export interface PackedInput {
  readonly keyId: bigint
  readonly c0: Uint32Array
  readonly seedBlob: Uint8Array
}

/** Exact size of a packed input on the wire. */
export function packedInputBytes (polyDegree: number, primeBits: number): number {
  return HEADER_BYTES + INPUT_BODY + packedBytes(polyDegree, primeBits) + SEED_BLOB_BYTES
}

/** Encode a packed input ciphertext. */
export function encodePackedInput (ct: PackedInput, polyDegree: number, primeBits: number, fingerprint: bigint): Uint8Array {
  const out = new Uint8Array(packedInputBytes(polyDegree, primeBits))
  const dv = writeHeader(out, KIND_PACKED_INPUT, polyDegree, fingerprint)
  out[HEADER_BYTES] = primeBits
  dv.setBigUint64(HEADER_BYTES + 8, ct.keyId, true)
  packWords(ct.c0, polyDegree, primeBits, out, HEADER_BYTES + INPUT_BODY)
  out.set(ct.seedBlob, out.length - SEED_BLOB_BYTES)
  return out
}

/**
 * Decode and validate a packed input.
 * @throws {HeWireError} for a wrong header, length, width, key id, seed, or a coefficient ≥ q.
 */
export function decodePackedInput (bytes: Uint8Array, expect: { polyDegree: number, fingerprint: bigint, prime: bigint, primeBits: number, keyId: bigint }): PackedInput {
  const what = 'packed input ciphertext'
  const dv = readHeader(bytes, KIND_PACKED_INPUT, expect, what)
  if (bytes[HEADER_BYTES] !== expect.primeBits) throw new HeWireError(`${what}: ${bytes[HEADER_BYTES]}-bit coefficients, expected ${expect.primeBits}`)
  const size = packedInputBytes(expect.polyDegree, expect.primeBits)
  if (bytes.byteLength !== size) throw new HeWireError(`${what}: ${bytes.byteLength} bytes, expected exactly ${size}`)
  const keyId = dv.getBigUint64(HEADER_BYTES + 8, true)
  if (keyId !== expect.keyId) throw new HeWireError(`${what}: encrypted for Galois key set ${keyId.toString(16)}, not the loaded set ${expect.keyId.toString(16)} (another user, or keys that were replaced)`)
  const c0 = unpackWords(bytes, HEADER_BYTES + INPUT_BODY, expect.polyDegree, expect.primeBits)
  checkBelow(c0, expect.polyDegree, expect.prime, what)
  const seedBlob = copyOf(bytes, bytes.length - SEED_BLOB_BYTES)
  checkSeedBlob(seedBlob, what)
  return { keyId, c0, seedBlob }
}

/** What a packed result says of itself: its widths, and which blocks of which tree it holds. */
export interface PackedResultHeader {
  readonly c0Bits: number
  readonly c1Bits: number
  readonly tree: number
  readonly first: number
  readonly end: number
  /** Blocks of [first, end) with all-zero weights, ascending. */
  readonly zeros: readonly number[]
}

/** A packed result: which blocks of which tree, and the switched c1 and c0. */
export interface PackedResult extends PackedResultHeader {
  /** N (lo, hi) pairs at c1Bits. */
  readonly c1: Uint32Array
  /** One (lo, hi) pair per result of the non-zero blocks of [first, end), in layout order, at c0Bits. */
  readonly c0: Uint32Array
}

/** Exact size of a packed result with `count` results and `zeros` zero blocks. */
export function packedResultBytes (polyDegree: number, c0Bits: number, c1Bits: number, count: number, zeros = 0): number {
  return HEADER_BYTES + RESULT_BODY + 4 * zeros + packedBytes(polyDegree, c1Bits) + packedBytes(count, c0Bits)
}

/** Encode a packed result. */
export function encodePackedResult (r: PackedResult, polyDegree: number, fingerprint: bigint): Uint8Array {
  const count = r.c0.length / 2
  const out = new Uint8Array(packedResultBytes(polyDegree, r.c0Bits, r.c1Bits, count, r.zeros.length))
  const dv = writeHeader(out, KIND_PACKED_RESULT, polyDegree, fingerprint)
  out[HEADER_BYTES] = r.c0Bits
  out[HEADER_BYTES + 1] = r.c1Bits
  dv.setUint16(HEADER_BYTES + 2, r.tree, true)
  dv.setUint32(HEADER_BYTES + 4, r.first, true)
  dv.setUint32(HEADER_BYTES + 8, r.end, true)
  dv.setUint32(HEADER_BYTES + 12, count, true)
  dv.setUint32(HEADER_BYTES + 16, r.zeros.length, true)
  r.zeros.forEach((z, i) => { dv.setUint32(HEADER_BYTES + RESULT_BODY + 4 * i, z, true) })
  const o = HEADER_BYTES + RESULT_BODY + 4 * r.zeros.length
  packWords(r.c1, polyDegree, r.c1Bits, out, o)
  packWords(r.c0, count, r.c0Bits, out, o + packedBytes(polyDegree, r.c1Bits))
  return out
}

/** A validated packed result whose coefficients are still bit-packed in `bytes`. */
export interface PackedResultView extends PackedResultHeader {
  /** Results of the non-zero blocks (c0 coefficients). */
  readonly count: number
  readonly bytes: Uint8Array
  /** Byte offsets of c1 (N values at c1Bits) and c0 (count values at c0Bits). */
  readonly c1Offset: number
  readonly c0Offset: number
}

/**
 * Validate a packed result of a plan's layout, leaving its coefficients packed.
 * @throws {HeWireError} for a wrong header, widths, block range, count or length.
 */
export function readPackedResult (bytes: Uint8Array, expect: { polyDegree: number, fingerprint: bigint, c0Bits: number, c1Bits: number, layout: PackedLayout }): PackedResultView {
  const what = 'packed result'
  const dv = readHeader(bytes, KIND_PACKED_RESULT, expect, what)
  if (bytes.byteLength < HEADER_BYTES + RESULT_BODY) throw new HeWireError(`${what}: ${bytes.byteLength} bytes is too short`)
  const c0Bits = bytes[HEADER_BYTES]
  const c1Bits = bytes[HEADER_BYTES + 1]
  if (c0Bits !== expect.c0Bits || c1Bits !== expect.c1Bits) throw new HeWireError(`${what}: widths ${c0Bits}/${c1Bits} bits, expected ${expect.c0Bits}/${expect.c1Bits}`)
  const L = expect.layout
  const tree = dv.getUint16(HEADER_BYTES + 2, true)
  const first = dv.getUint32(HEADER_BYTES + 4, true)
  const end = dv.getUint32(HEADER_BYTES + 8, true)
  const count = dv.getUint32(HEADER_BYTES + 12, true)
  const lo = tree * L.perTree
  const hi = Math.min(L.blocks, lo + L.perTree)
  if (tree >= L.trees || !(lo <= first && first < end && end <= hi)) throw new HeWireError(`${what}: blocks [${first}, ${end}) of tree ${tree} are not in the plan (${L.trees} trees of ${L.perTree} blocks)`)
  const nZero = dv.getUint32(HEADER_BYTES + 16, true)
  if (nZero > end - first || bytes.byteLength < HEADER_BYTES + RESULT_BODY + 4 * nZero) throw new HeWireError(`${what}: ${nZero} zero blocks in a range of ${end - first}`)
  const zeros: number[] = []
  for (let i = 0; i < nZero; i++) {
    const z = dv.getUint32(HEADER_BYTES + RESULT_BODY + 4 * i, true)
    if (z < first || z >= end || (i > 0 && z <= zeros[i - 1])) throw new HeWireError(`${what}: zero block ${z} is not an ascending block of [${first}, ${end})`)
    zeros.push(z)
  }
  const want = outputPositions(L, first, end, zeros).position.length
  if (count !== want) throw new HeWireError(`${what}: ${count} results for blocks [${first}, ${end}), expected ${want}`)
  const size = packedResultBytes(expect.polyDegree, c0Bits, c1Bits, count, nZero)
  if (bytes.byteLength !== size) throw new HeWireError(`${what}: ${bytes.byteLength} bytes, expected exactly ${size}`)
  const c1Offset = HEADER_BYTES + RESULT_BODY + 4 * nZero
  return { c0Bits, c1Bits, tree, first, end, zeros, count, bytes, c1Offset, c0Offset: c1Offset + packedBytes(expect.polyDegree, c1Bits) }
}

/**
 * Decode and validate a packed result of a plan's layout ({@link readPackedResult}, then
 * its coefficients unpacked).
 * @throws {HeWireError} for a wrong header, widths, block range, count or length.
 */
export function decodePackedResult (bytes: Uint8Array, expect: { polyDegree: number, fingerprint: bigint, c0Bits: number, c1Bits: number, layout: PackedLayout }): PackedResult {
  const r = readPackedResult(bytes, expect)
  const c1 = unpackWords(bytes, r.c1Offset, expect.polyDegree, r.c1Bits)
  const c0 = unpackWords(bytes, r.c0Offset, r.count, r.c0Bits)
  return { c0Bits: r.c0Bits, c1Bits: r.c1Bits, tree: r.tree, first: r.first, end: r.end, zeros: r.zeros, c1, c0 }
}
