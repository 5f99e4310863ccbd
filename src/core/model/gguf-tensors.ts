/**
 * Reading GGUF tensor data as float32.
 *
 * F32, F16, BF16 and Q8_0 are read exactly: every stored value is representable in
 * float32, and Q8_0's d·q (an f16 times an int8) rounds once, as ggml's
 * `dequantize_row_q8_0` does in float. Q4_0 and Q4_K are 4-bit formats, dequantized on
 * load with ggml's formulas (`dequantize_row_q4_0`, `dequantize_row_q4_K`,
 * ggml-org/ggml src/ggml-quants.c), each float operation rounded to float32; what the
 * 4 bits cost is measured in gguf-quality.test.ts and docs/02-the-model.md. Other types
 * are refused with the type's name, so the user can re-quantize.
 */
import { GgufFormatError, UnsupportedModelError } from './errors.ts'
import type { GgufFile, GgufTensorInfo } from './gguf.ts'
import { GGML_READABLE, ggmlType } from './gguf-types.ts'

const f32 = Math.fround

let halfTable: Float32Array | undefined

/** IEEE binary16 → float32 (exact), for every one of the 65,536 bit patterns. */
export function f16ToF32 (h: number): number {
  if (halfTable === undefined) {
    halfTable = new Float32Array(65536)
    for (let i = 0; i < 65536; i++) {
      const sign = i & 0x8000 ? -1 : 1
      const exp = (i >> 10) & 0x1f
      const mant = i & 0x3ff
      halfTable[i] = exp === 0 ? sign * mant * 2 ** -24 : exp === 31 ? (mant === 0 ? sign * Infinity : NaN) : sign * (1024 + mant) * 2 ** (exp - 25)
    }
  }
  return halfTable[h & 0xffff]
}

/** Bytes of one block of each block format. */
const Q8_0_BLOCK = 34
const Q4_0_BLOCK = 18
const Q4_K_BLOCK = 144
/** Elements per K-quant super-block (ggml's QK_K). */
const QK_K = 256

function dequantQ8_0 (src: Uint8Array, dv: DataView, out: Float32Array): void {
  for (let b = 0, o = 0; o < out.length; b += Q8_0_BLOCK) {
    const d = f16ToF32(dv.getUint16(b, true))
    for (let j = 0; j < 32; j++) out[o++] = f32(d * ((src[b + 2 + j] << 24) >> 24))
  }
}

function dequantQ4_0 (src: Uint8Array, dv: DataView, out: Float32Array): void {
  for (let b = 0, o = 0; o < out.length; b += Q4_0_BLOCK, o += 32) {
    const d = f16ToF32(dv.getUint16(b, true))
    for (let j = 0; j < 16; j++) {
      const q = src[b + 2 + j]
      out[o + j] = f32(((q & 0x0f) - 8) * d)
      out[o + j + 16] = f32(((q >> 4) - 8) * d)
    }
  }
}

// ggml's get_scale_min_k4: 8 six-bit scales and 8 six-bit mins packed into 12 bytes.
function scaleMinK4 (j: number, s: Uint8Array, at: number): [number, number] {
  if (j < 4) return [s[at + j] & 63, s[at + j + 4] & 63]
  return [(s[at + j + 4] & 0xf) | ((s[at + j - 4] >> 6) << 4), (s[at + j + 4] >> 4) | ((s[at + j] >> 6) << 4)]
}

function dequantQ4_K (src: Uint8Array, dv: DataView, out: Float32Array): void {
  for (let b = 0, o = 0; o < out.length; b += Q4_K_BLOCK) {
    const d = f16ToF32(dv.getUint16(b, true))
    const dmin = f16ToF32(dv.getUint16(b + 2, true))
    const scales = b + 4
    let q = b + 16
    for (let j = 0, is = 0; j < QK_K; j += 64, is += 2, q += 32) {
      const [sc1, m1] = scaleMinK4(is, src, scales)
      const [sc2, m2] = scaleMinK4(is + 1, src, scales)
      const d1 = f32(d * sc1)
      const mm1 = f32(dmin * m1)
      const d2 = f32(d * sc2)
      const mm2 = f32(dmin * m2)
      for (let l = 0; l < 32; l++) out[o++] = f32(f32(d1 * (src[q + l] & 0xf)) - mm1)
      for (let l = 0; l < 32; l++) out[o++] = f32(f32(d2 * (src[q + l] >> 4)) - mm2)
    }
  }
}

/**
 * A tensor's values as float32 (a fresh array), checked finite.
 * @throws {UnsupportedModelError} for a ggml type Cerberus does not read (the message
 *   names it and the types that work).
 * @throws {GgufFormatError} for a non-finite value.
 */
export function readTensorF32 (file: GgufFile, info: GgufTensorInfo): Float32Array {
  const src = file.bytes.subarray(info.fileOffset, info.fileOffset + info.byteLength)
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength)
  const out = new Float32Array(info.elements)
  switch (info.type) {
    case GGML_READABLE.F32:
      for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(4 * i, true)
      break
    case GGML_READABLE.F16:
      for (let i = 0; i < out.length; i++) out[i] = f16ToF32(dv.getUint16(2 * i, true))
      break
    case GGML_READABLE.BF16: {
      // bfloat16 is the top half of a float32.
      const bits = new Uint32Array(out.buffer)
      for (let i = 0; i < out.length; i++) bits[i] = dv.getUint16(2 * i, true) << 16
      break
    }
    case GGML_READABLE.Q8_0: dequantQ8_0(src, dv, out); break
    case GGML_READABLE.Q4_0: dequantQ4_0(src, dv, out); break
    case GGML_READABLE.Q4_K: dequantQ4_K(src, dv, out); break
    default: {
      const name = ggmlType(info.type)?.name ?? `type ${info.type}`
      throw new UnsupportedModelError(`tensor "${info.name}" is ${name}, which Cerberus does not read; it reads F32, F16, BF16 and Q8_0 exactly and dequantizes Q4_0 and Q4_K. Use a Q8_0 or F16 build of the model (or re-quantize it with llama.cpp's llama-quantize)`)
    }
  }
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new GgufFormatError(`not a valid model: tensor "${info.name}" has a non-finite value (${out[i]}) at index ${i}`)
  }
  return out
}
