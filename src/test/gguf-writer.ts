/**
 * Test helper: writes GGUF files (the format src/core/model/gguf.ts reads), with float32
 * tensors stored as F32, F16, BF16, Q8_0, Q4_0 or Q4_K, or raw bytes of any ggml type.
 *
 * Not part of the core and not shipped: the fixtures it builds are checked against
 * llama.cpp (node-llama-cpp), which must load them and compute what Cerberus computes, so
 * this writer is itself tested by an independent reader.
 *
 * Quantizers: Q8_0 and Q4_0 follow ggml's reference quantizers (`quantize_row_q8_0_ref`,
 * `quantize_row_q4_0_ref`). Q4_K uses a simpler choice of scales than ggml's iterative
 * `make_qkx2_quants` (min/max per 32-element sub-block, then 6-bit scales), so its
 * measured quality cost is an upper bound on llama-quantize's.
 */
import type { GgufArray, GgufValue } from '../core/model/gguf.ts'
import { GGUF_MAGIC } from '../core/model/gguf.ts'
import { ggmlTypeByName } from '../core/model/gguf-types.ts'

/** Metadata value constructors (the reader's own tagged representation). */
export const gv = {
  str: (value: string): GgufValue => ({ type: 'string', value }),
  u32: (value: number): GgufValue => ({ type: 'u32', value }),
  i32: (value: number): GgufValue => ({ type: 'i32', value }),
  u64: (value: bigint | number): GgufValue => ({ type: 'u64', value: BigInt(value) }),
  f32: (value: number): GgufValue => ({ type: 'f32', value }),
  bool: (value: boolean): GgufValue => ({ type: 'bool', value }),
  strings: (value: string[]): GgufArray => ({ type: 'array', itemType: 'string', value }),
  f32s: (value: ArrayLike<number>): GgufArray => ({ type: 'array', itemType: 'f32', value: Float32Array.from(value) }),
  i32s: (value: ArrayLike<number>): GgufArray => ({ type: 'array', itemType: 'i32', value: Int32Array.from(value) })
}

/** Storage formats the writer can quantize float32 data into. */
export type WritableType = 'F32' | 'F16' | 'BF16' | 'Q8_0' | 'Q4_0' | 'Q4_K'

/** A tensor to write: float data in a format, or raw bytes of a ggml type number. */
export type TensorSpec =
  | { readonly name: string, readonly dims: readonly number[], readonly type: WritableType, readonly data: Float32Array }
  | { readonly name: string, readonly dims: readonly number[], readonly typeId: number, readonly raw: Uint8Array }

/** What to write. */
export interface GgufSpec {
  readonly metadata: ReadonlyArray<readonly [string, GgufValue]>
  readonly tensors: readonly TensorSpec[]
  /** Tensor data alignment; written as general.alignment when not 32. */
  readonly alignment?: number
  readonly version?: number
}

const enc = new TextEncoder()
const VALUE_TYPE: Record<string, number> = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 }

/** A growable little-endian byte buffer. */
class Out {
  buf = new Uint8Array(1 << 16)
  len = 0
  private grow (n: number): DataView {
    if (this.len + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n))
      next.set(this.buf.subarray(0, this.len))
      this.buf = next
    }
    const dv = new DataView(this.buf.buffer, this.len, n)
    this.len += n
    return dv
  }

  u8 (v: number): void { this.grow(1).setUint8(0, v) }
  u32 (v: number): void { this.grow(4).setUint32(0, v, true) }
  u64 (v: number | bigint): void { this.grow(8).setBigUint64(0, BigInt(v), true) }
  bytes (b: Uint8Array): void { this.grow(b.length); this.buf.set(b, this.len - b.length) }
  str (s: string): void { const b = enc.encode(s); this.u64(b.length); this.bytes(b) }
  pad (alignment: number): void { while (this.len % alignment !== 0) this.u8(0) }
  value (type: string, v: unknown): void {
    const dv = (n: number): DataView => this.grow(n)
    switch (type) {
      case 'u8': dv(1).setUint8(0, v as number); break
      case 'i8': dv(1).setInt8(0, v as number); break
      case 'u16': dv(2).setUint16(0, v as number, true); break
      case 'i16': dv(2).setInt16(0, v as number, true); break
      case 'u32': dv(4).setUint32(0, v as number, true); break
      case 'i32': dv(4).setInt32(0, v as number, true); break
      case 'f32': dv(4).setFloat32(0, v as number, true); break
      case 'f64': dv(8).setFloat64(0, v as number, true); break
      case 'u64': dv(8).setBigUint64(0, v as bigint, true); break
      case 'i64': dv(8).setBigInt64(0, v as bigint, true); break
      case 'bool': this.u8(v === true ? 1 : 0); break
      case 'string': this.str(v as string); break
      case 'array': {
        const a = v as GgufArray
        this.u32(VALUE_TYPE[a.itemType])
        const items = Array.from(a.value as ArrayLike<unknown>)
        this.u64(items.length)
        for (const item of items) this.value(a.itemType, item)
        break
      }
    }
  }
}

/** Write a GGUF file. */
export function writeGguf (spec: GgufSpec): Uint8Array {
  const alignment = spec.alignment ?? 32
  const metadata = [...spec.metadata]
  if (alignment !== 32) metadata.push(['general.alignment', gv.u32(alignment)])
  const data = spec.tensors.map(t => 'raw' in t ? { typeId: t.typeId, bytes: t.raw } : { typeId: ggmlTypeByName(t.type)?.id ?? -1, bytes: encodeTensor(t.type, t.data) })
  const out = new Out()
  out.u32(GGUF_MAGIC)
  out.u32(spec.version ?? 3)
  out.u64(spec.tensors.length)
  out.u64(metadata.length)
  for (const [key, v] of metadata) {
    out.str(key)
    out.u32(VALUE_TYPE[v.type])
    out.value(v.type, v.type === 'array' ? v : v.value)
  }
  let offset = 0
  spec.tensors.forEach((t, i) => {
    out.str(t.name)
    out.u32(t.dims.length)
    for (const d of t.dims) out.u64(d)
    out.u32(data[i].typeId)
    out.u64(offset)
    offset += Math.ceil(data[i].bytes.length / alignment) * alignment
  })
  out.pad(alignment)
  for (const d of data) {
    out.bytes(d.bytes)
    out.pad(alignment)
  }
  return out.buf.slice(0, out.len)
}

/** float32 → IEEE binary16 bits, rounding to nearest even (as ggml's FP32_TO_FP16). */
export function f32ToF16 (x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0]
  const sign = (u >>> 16) & 0x8000
  const exp = (u >>> 23) & 0xff
  let mant = u & 0x7fffff
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0)
  const e = exp - 127 + 15
  if (e >= 0x1f) return sign | 0x7c00
  if (e <= 0) {
    if (e < -10) return sign
    mant |= 0x800000
    const shift = 14 - e
    let half = mant >>> shift
    const rem = mant & ((1 << shift) - 1)
    const mid = 1 << (shift - 1)
    if (rem > mid || (rem === mid && (half & 1) === 1)) half++
    return sign | half
  }
  let half = (e << 10) | (mant >>> 13)
  const rem = mant & 0x1fff
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++
  return sign | half
}

const roundAway = (x: number): number => Math.sign(x) * Math.round(Math.abs(x))
const f32 = Math.fround

function quantQ8_0 (x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / 32) * 34)
  const dv = new DataView(out.buffer)
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]))
    const d = f32(amax / 127)
    const id = d !== 0 ? f32(1 / d) : 0
    dv.setUint16(b * 34, f32ToF16(d), true)
    for (let j = 0; j < 32; j++) dv.setInt8(b * 34 + 2 + j, roundAway(f32(x[b * 32 + j] * id)))
  }
  return out
}

function quantQ4_0 (x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / 32) * 18)
  const dv = new DataView(out.buffer)
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0
    let max = 0
    for (let j = 0; j < 32; j++) {
      const v = x[b * 32 + j]
      if (amax < Math.abs(v)) { amax = Math.abs(v); max = v }
    }
    const d = f32(max / -8)
    const id = d !== 0 ? f32(1 / d) : 0
    dv.setUint16(b * 18, f32ToF16(d), true)
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(15, Math.trunc(f32(f32(x[b * 32 + j] * id) + 8.5)))
      const q1 = Math.min(15, Math.trunc(f32(f32(x[b * 32 + 16 + j] * id) + 8.5)))
      out[b * 18 + 2 + j] = q0 | (q1 << 4)
    }
  }
  return out
}

function f16Value (h: number): number {
  const exp = (h >> 10) & 0x1f
  const mant = h & 0x3ff
  const s = h & 0x8000 ? -1 : 1
  return exp === 0 ? s * mant * 2 ** -24 : s * (1024 + mant) * 2 ** (exp - 25)
}

function quantQ4_K (x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / 256) * 144)
  const dv = new DataView(out.buffer)
  for (let b = 0; b < x.length / 256; b++) {
    const base = b * 256
    const scale = new Float64Array(8)
    const min = new Float64Array(8)
    for (let j = 0; j < 8; j++) {
      let lo = 0
      let hi = -Infinity
      for (let l = 0; l < 32; l++) { const v = x[base + 32 * j + l]; lo = Math.min(lo, v); hi = Math.max(hi, v) }
      scale[j] = (hi - lo) / 15
      min[j] = -lo
    }
    const dh = f32ToF16(Math.max(...scale) / 63)
    const mh = f32ToF16(Math.max(...min) / 63)
    const d = f16Value(dh)
    const dmin = f16Value(mh)
    const o = b * 144
    dv.setUint16(o, dh, true)
    dv.setUint16(o + 2, mh, true)
    const ls = scale.map(s => d > 0 ? Math.min(63, Math.round(s / d)) : 0)
    const lm = min.map(m => dmin > 0 ? Math.min(63, Math.round(m / dmin)) : 0)
    for (let j = 0; j < 8; j++) {
      if (j < 4) {
        out[o + 4 + j] = ls[j]
        out[o + 4 + j + 4] = lm[j]
      } else {
        out[o + 4 + j + 4] = (ls[j] & 0xf) | ((lm[j] & 0xf) << 4)
        out[o + 4 + j - 4] |= (ls[j] >> 4) << 6
        out[o + 4 + j] |= (lm[j] >> 4) << 6
      }
    }
    const L = new Uint8Array(256)
    for (let j = 0; j < 8; j++) {
      const sd = f32(d * ls[j])
      const sm = f32(dmin * lm[j])
      for (let l = 0; l < 32; l++) L[32 * j + l] = sd > 0 ? Math.max(0, Math.min(15, Math.round((x[base + 32 * j + l] + sm) / sd))) : 0
    }
    for (let j = 0, q = o + 16; j < 256; j += 64, q += 32) {
      for (let l = 0; l < 32; l++) out[q + l] = L[j + l] | (L[j + l + 32] << 4)
    }
  }
  return out
}

/** Encode float32 data in a storage format. */
export function encodeTensor (type: WritableType, x: Float32Array): Uint8Array {
  switch (type) {
    case 'F32': return new Uint8Array(Float32Array.from(x).buffer)
    case 'F16': return new Uint8Array(Uint16Array.from(x, f32ToF16).buffer)
    case 'BF16': return new Uint8Array(Uint16Array.from(new Uint32Array(Float32Array.from(x).buffer), u => (u + 0x7fff + ((u >>> 16) & 1)) >>> 16).buffer)
    case 'Q8_0': return quantQ8_0(x)
    case 'Q4_0': return quantQ4_0(x)
    case 'Q4_K': return quantQ4_K(x)
  }
}
