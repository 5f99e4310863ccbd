/**
 * Packing unsigned integers of up to 60 bits, given as (lo, hi) u32 word pairs, into a
 * dense little-endian bit stream — SEAL stores each coefficient of a 54-bit modulus in
 * 64 bits; on the wire it takes 54.
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
  let acc = 0
  let accBits = 0
  let o = offset
  const put = (v: number, n: number): void => {
    // n ≤ 24 and accBits ≤ 7 keep acc within 31 bits
    acc |= v << accBits
    accBits += n
    while (accBits >= 8) {
      out[o++] = acc & 0xff
      acc >>>= 8
      accBits -= 8
    }
  }
  const loBits = Math.min(bits, 32)
  const hiBits = bits - loBits
  for (let i = 0; i < count; i++) {
    const lo = words[2 * i]
    const hi = words[2 * i + 1]
    if (loBits <= 24) put(lo & ((1 << loBits) - 1), loBits)
    else {
      put(lo & 0xffffff, 24)
      put((lo >>> 24) & ((1 << (loBits - 24)) - 1), loBits - 24)
    }
    if (hiBits > 0) {
      if (hiBits <= 24) put(hi & ((1 << hiBits) - 1), hiBits)
      else {
        put(hi & 0xffffff, 24)
        put((hi >>> 24) & ((1 << (hiBits - 24)) - 1), hiBits - 24)
      }
    }
  }
  if (accBits > 0) out[o] = acc & 0xff
}

/** Read `count` values of `bits` bits from `src` at byte `offset` into (lo, hi) pairs. */
export function unpackWords (src: Uint8Array, offset: number, count: number, bits: number): Uint32Array {
  const words = new Uint32Array(2 * count)
  let acc = 0
  let accBits = 0
  let o = offset
  const take = (n: number): number => {
    // n ≤ 24: keep at most 31 bits in acc
    while (accBits < n) {
      acc |= src[o++] << accBits
      accBits += 8
    }
    const v = acc & ((1 << n) - 1)
    acc >>>= n
    accBits -= n
    return v
  }
  const loBits = Math.min(bits, 32)
  const hiBits = bits - loBits
  for (let i = 0; i < count; i++) {
    let lo = loBits <= 24 ? take(loBits) : take(24)
    if (loBits > 24) lo = (lo | (take(loBits - 24) << 24)) >>> 0
    let hi = 0
    if (hiBits > 0) {
      hi = hiBits <= 24 ? take(hiBits) : take(24)
      if (hiBits > 24) hi = (hi | (take(hiBits - 24) << 24)) >>> 0
    }
    words[2 * i] = lo
    words[2 * i + 1] = hi
  }
  return words
}
