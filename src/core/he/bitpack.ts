/**
 * Packing unsigned integers of up to 60 bits, given as (lo, hi) u32 word pairs, into a
 * dense little-endian bit stream — SEAL stores each coefficient of a 54-bit modulus in
 * 64 bits; on the wire it takes 54.
 *
 * The stream is built 32 bits at a time in a Uint32Array (little-endian, so its bytes are
 * the LSB-first bit stream) and copied into place: ~4× faster than byte-at-a-time.
 */

/** Bytes needed for `count` values of `bits` bits. */
export function packedBytes (count: number, bits: number): number {
  return Math.ceil((count * bits) / 8)
}

/**
 * Write `count` values from `words` (pairs lo, hi; value = hi·2^32 + lo) with `bits`
 * bits each into `out` starting at byte `offset`. Values must be < 2^bits.
 */
export function packWords (words: Uint32Array, count: number, bits: number, out: Uint8Array, offset: number): void {
  const nBytes = packedBytes(count, bits)
  const stream = new Uint32Array(Math.ceil(nBytes / 4) + 1)
  let cur = 0
  let pos = 0
  let o = 0
  const loBits = Math.min(bits, 32)
  const hiBits = bits - loBits
  const loMask = loBits === 32 ? 0xffffffff : (2 ** loBits) - 1
  const hiMask = (2 ** hiBits) - 1
  for (let i = 0; i < count; i++) {
    // low part (loBits ≤ 32)
    let v = (words[2 * i] & loMask) >>> 0
    cur = (cur | (v << pos)) >>> 0
    pos += loBits
    if (pos >= 32) {
      stream[o++] = cur
      pos -= 32
      cur = pos === 0 ? 0 : v >>> (loBits - pos)
    }
    if (hiBits > 0) {
      v = words[2 * i + 1] & hiMask
      cur = (cur | (v << pos)) >>> 0
      pos += hiBits
      if (pos >= 32) {
        stream[o++] = cur
        pos -= 32
        cur = pos === 0 ? 0 : v >>> (hiBits - pos)
      }
    }
  }
  if (pos > 0) stream[o] = cur
  out.set(new Uint8Array(stream.buffer, 0, nBytes), offset)
}

/** Read `count` values of `bits` bits from `src` at byte `offset` into (lo, hi) pairs. */
export function unpackWords (src: Uint8Array, offset: number, count: number, bits: number): Uint32Array {
  const nBytes = packedBytes(count, bits)
  const stream = new Uint32Array(Math.ceil(nBytes / 4) + 1)
  new Uint8Array(stream.buffer).set(src.subarray(offset, offset + nBytes))
  const words = new Uint32Array(2 * count)
  const loBits = Math.min(bits, 32)
  const hiBits = bits - loBits
  let idx = 0
  let pos = 0
  // read k ≤ 32 bits at the current position
  const take = (k: number): number => {
    const a = stream[idx] >>> pos
    let v: number
    const mask = k === 32 ? 0xffffffff : 2 ** k - 1
    if (pos + k < 32) {
      v = (a & mask) >>> 0
      pos += k
    } else {
      // the rest comes from the next word (pos ≥ 1 here unless k = 32)
      const b = pos === 0 ? 0 : stream[idx + 1] << (32 - pos)
      v = ((a | b) & mask) >>> 0
      idx++
      pos = pos + k - 32
    }
    return v
  }
  for (let i = 0; i < count; i++) {
    words[2 * i] = take(loBits)
    if (hiBits > 0) words[2 * i + 1] = take(hiBits)
  }
  return words
}

/**
 * Read `count` values of `bits` bits (≤ 60) from `src` at byte `offset`, scale each by
 * `scale`, round, reduce once below `wrap`, and write it as a (lo, hi) pair at pair index
 * `at[i]` of `dst` (at `i` without `at`) — the user's step from a result's widths back to q,
 * in one pass without the intermediate pairs of {@link unpackWords}. The value is formed as
 * hi·2^32 + lo in float64, as a caller of unpackWords would, so the results are the same.
 */
export function unpackScaled (src: Uint8Array, offset: number, count: number, bits: number, scale: number, wrap: number, dst: Uint32Array, at?: Int32Array): void {
  const nBytes = packedBytes(count, bits)
  const stream = new Uint32Array(Math.ceil(nBytes / 4) + 2)
  new Uint8Array(stream.buffer).set(src.subarray(offset, offset + nBytes))
  const two32 = 4294967296
  const loMask = bits >= 32 ? 0xffffffff : 2 ** bits - 1
  const hiMask = bits > 32 ? 2 ** (bits - 32) - 1 : 0
  for (let i = 0; i < count; i++) {
    const o = i * bits
    const w = o >>> 5
    const s = o & 31
    const lo = (s === 0 ? stream[w] : ((stream[w] >>> s) | (stream[w + 1] << (32 - s))) >>> 0) & loMask
    const hi = hiMask === 0 ? 0 : (s === 0 ? stream[w + 1] : ((stream[w + 1] >>> s) | (stream[w + 2] << (32 - s))) >>> 0) & hiMask
    let v = Math.round((hi * two32 + (lo >>> 0)) * scale)
    if (v >= wrap) v -= wrap
    const vh = Math.floor(v / two32)
    const j = at === undefined ? i : at[i]
    dst[2 * j] = v - vh * two32
    dst[2 * j + 1] = vh
  }
}
