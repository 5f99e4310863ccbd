/**
 * The Galois key set on the wire (kind 5, user → miner, once per session and parameter
 * set). Galois keys are public key material: key-switching keys from τ_g(s) to s, which let
 * the miner apply automorphisms to the user's ciphertexts and nothing else — they cannot
 * decrypt (see docs/04-encrypted-matvec.md, "Threat model").
 *
 * SEAL makes them seeded (each key's second half is a 64-byte PRNG seed); we send SEAL's
 * seeded keys with every coefficient bit-packed at its prime's width (54 and 55 bits
 * instead of 64, 15% smaller than SEAL's zstd) so that the whole object is validated —
 * header, parameters, the exact element set, sizes, every coefficient < its prime, every
 * seed — before SEAL sees a byte. The miner rebuilds SEAL's serialization and loads it.
 *
 * Layout after the 16-byte header, little-endian:
 *   u8 data-prime bits | u8 special-prime bits | u16 count | u32 0 | count × u32 element |
 *   count × (c0 mod q: N × data bits | c0 mod P: N × special bits | seed blob 81 B)
 * The set's id is 8 bytes of its first key's seed: random, so two key sets (two users, or
 * one user's keys before and after a rotation) are told apart; inputs carry it.
 */
import { copyOf } from '../bytes.ts'
import { packedBytes, packWords, unpackWords } from './bitpack.ts'
import { HeWireError } from './errors.ts'
import { keySetElements } from './galois.ts'
import { CT_DATA_OFFSET, SEED_BLOB_BYTES, checkSealHeader, seededBytes, writeSealHeader } from './seal-bytes.ts'
import { HEADER_BYTES, KIND_GALOIS_KEYS, checkBelow, checkSeedBlob, readHeader, writeHeader } from './wire.ts'

/**
 * Largest Galois key set accepted: 1 MiB. A set for N = 4096 (12 keys of 2 × 4096
 * coefficients at 54 + 55 bits) is 670,748 bytes; nothing larger is read, let alone given
 * to SEAL.
 */
export const MAX_GALOIS_KEY_BYTES = 1 << 20

const BODY = 8

/** One key: c0 in both limbs ((lo, hi) words, limb-major) and SEAL's seed blob. */
export interface GaloisKey {
  readonly element: number
  readonly c0: Uint32Array
  readonly seedBlob: Uint8Array
}

/** A decoded key set. */
export interface GaloisKeySet {
  /** 8 bytes of the first key's seed. */
  readonly id: bigint
  readonly keys: readonly GaloisKey[]
}

/** The primes a key set is for. */
export interface KeyPrimes {
  readonly polyDegree: number
  readonly fingerprint: bigint
  readonly dataPrime: bigint
  readonly specialPrime: bigint
}

const bitsOf = (p: bigint): number => p.toString(2).length

/** Exact size of a key set for a ring and its primes. */
export function galoisKeyBytes (polyDegree: number, dataBits: number, specialBits: number): number {
  const count = keySetElements(polyDegree).length
  return HEADER_BYTES + BODY + 4 * count + count * (packedBytes(polyDegree, dataBits) + packedBytes(polyDegree, specialBits) + SEED_BLOB_BYTES)
}

function idOf (seedBlob: Uint8Array): bigint {
  return new DataView(seedBlob.buffer, seedBlob.byteOffset + 17, 8).getBigUint64(0, true)
}

/**
 * SEAL's uncompressed serialization of seeded Galois keys → our key set. SEAL lays out
 * KSwitchKeys as: SEALHeader | key parms_id | u64 N slots (slot i = element 2i+1) | per slot:
 * u64 count, then that many seeded NTT-form ciphertexts of two limbs.
 * @throws {HeWireError} when SEAL's bytes are not the expected set.
 */
export function keySetFromSeal (sealBytes: Uint8Array, p: KeyPrimes): GaloisKeySet {
  const what = 'SEAL Galois keys'
  const n = p.polyDegree
  const dv = new DataView(sealBytes.buffer, sealBytes.byteOffset, sealBytes.byteLength)
  if (checkSealHeader(dv, 0, what) !== sealBytes.byteLength) throw new HeWireError(`${what}: size mismatch`)
  const slots = Number(dv.getBigUint64(48, true))
  if (slots !== n) throw new HeWireError(`${what}: ${slots} slots, expected ${n}`)
  let o = 56
  const keys: GaloisKey[] = []
  const ctBytes = CT_DATA_OFFSET + 8 * 2 * n + SEED_BLOB_BYTES
  for (let i = 0; i < slots; i++) {
    const count = Number(dv.getBigUint64(o, true))
    o += 8
    if (count === 0) continue
    if (count !== 1 || o + ctBytes > sealBytes.byteLength || Number(dv.getBigUint64(o + 105, true)) !== 2 * n) throw new HeWireError(`${what}: slot ${i} is not one seeded key of two limbs`)
    keys.push({ element: 2 * i + 1, c0: new Uint32Array(copyOf(sealBytes, o + CT_DATA_OFFSET, o + CT_DATA_OFFSET + 16 * n).buffer), seedBlob: copyOf(sealBytes, o + ctBytes - SEED_BLOB_BYTES, o + ctBytes) })
    o += ctBytes
  }
  const want = keySetElements(n)
  if (keys.length !== want.length || keys.some((k, i) => k.element !== want[i])) throw new HeWireError(`${what}: elements ${keys.map(k => k.element).join(',')}, expected ${want.join(',')}`)
  return { id: idOf(keys[0].seedBlob), keys }
}

/** Encode a key set. */
export function encodeGaloisKeys (set: GaloisKeySet, p: KeyPrimes): Uint8Array {
  const n = p.polyDegree
  const db = bitsOf(p.dataPrime)
  const sb = bitsOf(p.specialPrime)
  const out = new Uint8Array(galoisKeyBytes(n, db, sb))
  const dv = writeHeader(out, KIND_GALOIS_KEYS, n, p.fingerprint)
  out[HEADER_BYTES] = db
  out[HEADER_BYTES + 1] = sb
  dv.setUint16(HEADER_BYTES + 2, set.keys.length, true)
  let o = HEADER_BYTES + BODY
  for (const k of set.keys) { dv.setUint32(o, k.element, true); o += 4 }
  for (const k of set.keys) {
    packWords(k.c0.subarray(0, 2 * n), n, db, out, o)
    o += packedBytes(n, db)
    packWords(k.c0.subarray(2 * n), n, sb, out, o)
    o += packedBytes(n, sb)
    out.set(k.seedBlob, o)
    o += SEED_BLOB_BYTES
  }
  return out
}

/**
 * Decode and validate a key set for the given ring and primes.
 * @throws {HeWireError} for anything oversized, truncated, for other parameters, with a
 * wrong element set, a coefficient ≥ its prime or a malformed seed.
 */
export function decodeGaloisKeys (bytes: Uint8Array, p: KeyPrimes): GaloisKeySet {
  const what = 'Galois key set'
  if (bytes.byteLength > MAX_GALOIS_KEY_BYTES) throw new HeWireError(`${what}: ${bytes.byteLength} bytes, more than the ${MAX_GALOIS_KEY_BYTES} allowed`)
  const dv = readHeader(bytes, KIND_GALOIS_KEYS, p, what)
  const n = p.polyDegree
  const db = bitsOf(p.dataPrime)
  const sb = bitsOf(p.specialPrime)
  if (bytes.byteLength < HEADER_BYTES + BODY) throw new HeWireError(`${what}: ${bytes.byteLength} bytes is too short`)
  if (bytes[HEADER_BYTES] !== db || bytes[HEADER_BYTES + 1] !== sb) throw new HeWireError(`${what}: primes of ${bytes[HEADER_BYTES]}/${bytes[HEADER_BYTES + 1]} bits, expected ${db}/${sb}`)
  const want = keySetElements(n)
  const count = dv.getUint16(HEADER_BYTES + 2, true)
  if (count !== want.length) throw new HeWireError(`${what}: ${count} keys, expected the ${want.length} of elements ${want.join(',')}`)
  const size = galoisKeyBytes(n, db, sb)
  if (bytes.byteLength !== size) throw new HeWireError(`${what}: ${bytes.byteLength} bytes, expected exactly ${size}`)
  let o = HEADER_BYTES + BODY
  for (let i = 0; i < count; i++, o += 4) {
    const e = dv.getUint32(o, true)
    if (e !== want[i]) throw new HeWireError(`${what}: element ${i} is ${e}, expected ${want[i]} (the set is ${want.join(',')})`)
  }
  const keys: GaloisKey[] = []
  for (let i = 0; i < count; i++) {
    const lo = unpackWords(bytes, o, n, db)
    o += packedBytes(n, db)
    const hi = unpackWords(bytes, o, n, sb)
    o += packedBytes(n, sb)
    checkBelow(lo, n, p.dataPrime, `${what}: key ${want[i]} mod q`)
    checkBelow(hi, n, p.specialPrime, `${what}: key ${want[i]} mod P`)
    const seedBlob = copyOf(bytes, o, o + SEED_BLOB_BYTES)
    o += SEED_BLOB_BYTES
    checkSeedBlob(seedBlob, `${what}: key ${want[i]}`)
    const c0 = new Uint32Array(4 * n)
    c0.set(lo)
    c0.set(hi, 2 * n)
    keys.push({ element: want[i], c0, seedBlob })
  }
  return { id: idOf(keys[0].seedBlob), keys }
}

/** SEAL's uncompressed serialization of a (validated) key set, for `GaloisKeys.loadFromArray`. */
export function sealKeyBytes (set: GaloisKeySet, polyDegree: number, keyParmsId: BigUint64Array): Uint8Array {
  const n = polyDegree
  const cts = set.keys.map(k => seededBytes({ parmsId: keyParmsId, polyDegree: n, limbs: 2, c0: k.c0, seedBlob: k.seedBlob }, true))
  const total = 56 + 8 * n + cts.reduce((a, c) => a + c.length, 0)
  const out = new Uint8Array(total)
  const dv = new DataView(out.buffer)
  writeSealHeader(dv, 0, total)
  for (let i = 0; i < 4; i++) dv.setBigUint64(16 + 8 * i, keyParmsId[i], true)
  dv.setBigUint64(48, BigInt(n), true)
  let o = 56
  let k = 0
  for (let i = 0; i < n; i++) {
    const present = k < set.keys.length && set.keys[k].element === 2 * i + 1
    dv.setBigUint64(o, present ? 1n : 0n, true)
    o += 8
    if (present) {
      out.set(cts[k], o)
      o += cts[k].length
      k++
    }
  }
  return out
}
