/**
 * The GGUF container format (llama.cpp's model files), parsed and validated: header,
 * metadata key/values of every GGUF type (arrays included), tensor infos, alignment, and
 * where each tensor's data lies. Bytes in, typed values out; tensor data is read by
 * gguf-tensors.ts.
 *
 * Layout (little-endian; source: ggml-org/ggml docs/gguf.md, and gguf.cpp `gguf_init_from_file_impl`):
 *   u32 magic "GGUF" | u32 version | u64 tensor_count | u64 kv_count
 *   kv_count × (string key | u32 value_type | value)
 *   tensor_count × (string name | u32 n_dims | n_dims × u64 ne | u32 ggml_type | u64 offset)
 *   padding to `general.alignment` (default 32) | tensor data (each offset is relative to
 *   here and aligned)
 * A string is a u64 byte length and UTF-8 bytes; an array is a u32 item type, a u64 count,
 * the items. `ne[0]` is the innermost (contiguous) dimension: a matrix W (rows, cols) has
 * ne = [cols, rows].
 *
 * Hostile files: every count and length is checked against a named bound and against the
 * bytes that remain before anything is allocated, so a header that claims 2^60 entries is
 * refused at once, and memory stays proportional to the file.
 */
import { BoundedReader } from '../binary.ts'
import { GgufFormatError } from './errors.ts'
import { ggmlType, tensorByteLength } from './gguf-types.ts'

/** "GGUF" as a little-endian u32. */
export const GGUF_MAGIC = 0x46554747
/**
 * Versions read: 2 (u64 counts, 2023) and 3 (adds big-endian files, which announce
 * themselves by a byte-swapped version; we refuse those). Version 1 used u32 counts and
 * has not been written since August 2023.
 */
export const GGUF_VERSIONS: readonly number[] = [2, 3]
/** Alignment of tensor data when `general.alignment` is absent (ggml's GGUF_DEFAULT_ALIGNMENT). */
export const GGUF_DEFAULT_ALIGNMENT = 32

/**
 * Bounds on what a header may claim. Each is far above any real model and exists so that
 * a corrupt or hostile file is refused with a message rather than an allocation attempt.
 */
export const GGUF_LIMITS = Object.freeze({
  /** Tensors: Llama-3.1-405B has 1,138; mixture-of-experts models a few thousand. */
  maxTensors: 1 << 16,
  /** Metadata keys: real files have 20–60. */
  maxKeys: 1 << 16,
  /** A key or tensor name (ggml's own tensor names stop at 63 bytes). */
  maxNameBytes: 1 << 16,
  /** A string value: chat templates are at most a few hundred KiB. */
  maxStringBytes: 1 << 24,
  /** Items in one array: the largest vocabularies have 262,144 tokens, merge lists ~500,000. */
  maxArrayLength: 1 << 24,
  /** Arrays of arrays (allowed by the spec, unused in practice). */
  maxArrayDepth: 4,
  /** ggml tensors have at most 4 dimensions (GGML_MAX_DIMS). */
  maxDims: 4,
  /** The largest `general.alignment` we accept (real files use 32). */
  maxAlignment: 1 << 16
})

/** GGUF metadata value types, by their number in the file. */
export const GGUF_VALUE_TYPES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'] as const

/** The name of a GGUF value type. */
export type GgufValueTypeName = typeof GGUF_VALUE_TYPES[number]

/** The items of a GGUF array: a typed array for numbers, plain arrays otherwise. */
export type GgufArrayItems =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array
  | BigUint64Array | BigInt64Array | boolean[] | string[] | GgufArray[]

/** A GGUF array value. */
export interface GgufArray {
  readonly type: 'array'
  readonly itemType: GgufValueTypeName
  readonly value: GgufArrayItems
}

/** A metadata value, tagged with its GGUF type (64-bit integers are bigints). */
export type GgufValue =
  | { readonly type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64', readonly value: number }
  | { readonly type: 'u64' | 'i64', readonly value: bigint }
  | { readonly type: 'bool', readonly value: boolean }
  | { readonly type: 'string', readonly value: string }
  | GgufArray

/** Where one tensor is and what it holds. */
export interface GgufTensorInfo {
  readonly name: string
  /** ne[0] … ne[n−1], innermost first. */
  readonly dims: readonly number[]
  /** ggml type number (gguf-types.ts). */
  readonly type: number
  /** Product of the dims. */
  readonly elements: number
  /** Byte offset of the data in the file (data section start + the tensor's offset). */
  readonly fileOffset: number
  readonly byteLength: number
}

/** A parsed GGUF file. Tensor data stays in `bytes` (not copied). */
export interface GgufFile {
  readonly version: number
  readonly metadata: ReadonlyMap<string, GgufValue>
  readonly tensors: readonly GgufTensorInfo[]
  readonly alignment: number
  /** Byte offset of the data section. */
  readonly dataOffset: number
  readonly bytes: Uint8Array
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Bytes each array item takes at least (strings: their length; arrays: type and count). */
const MIN_ITEM_BYTES: Record<GgufValueTypeName, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, string: 8, array: 12, u64: 8, i64: 8, f64: 8 }

const fail = (message: string, cause?: unknown): GgufFormatError => new GgufFormatError(`not a valid GGUF file: ${message}`, cause)

/** The GGUF reads on top of the project's bounded reader (same bounds-checked cursor). */
class GgufReader extends BoundedReader {
  private readonly view: DataView

  constructor (bytes: Uint8Array) {
    super(bytes, { fail, whole: 'the file' })
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  get remaining (): number { return this.buf.length - this.pos }

  private take (n: number, what: string): number {
    this.need(n, what)
    const at = this.pos
    this.pos += n
    return at
  }

  i8 (what: string): number { return this.view.getInt8(this.take(1, what)) }
  i16 (what: string): number { return this.view.getInt16(this.take(2, what), true) }
  i32 (what: string): number { return this.view.getInt32(this.take(4, what), true) }
  f32 (what: string): number { return this.view.getFloat32(this.take(4, what), true) }
  f64 (what: string): number { return this.view.getFloat64(this.take(8, what), true) }
  big64 (signed: boolean, what: string): bigint {
    const at = this.take(8, what)
    return signed ? this.view.getBigInt64(at, true) : this.view.getBigUint64(at, true)
  }

  /** A count checked against its bound and against the bytes left (each item ≥ `minBytes`). */
  count (what: string, max: number, minBytes: number): number {
    const n = this.u64(what)
    if (n > max) throw fail(`${what} is ${n}, more than the limit ${max}`)
    if (n * minBytes > this.remaining) throw fail(`${what} is ${n}, but only ${this.remaining} bytes remain (the file is truncated or the count is corrupt)`)
    return n
  }

  gstring (max: number, what: string): string {
    const n = this.u64(`the length of ${what}`)
    if (n > max) throw fail(`${what} is ${n} bytes long, more than the limit ${max}`)
    const b = this.bytes(n, what)
    try {
      return utf8.decode(b)
    } catch (err) {
      throw fail(`${what} is not valid UTF-8`, err)
    }
  }

  /** A typed array of `n` items of `size` bytes, copied out of the file. */
  numbers<T> (n: number, size: number, what: string, make: (buf: ArrayBuffer) => T): T {
    const raw = this.bytes(n * size, what)
    return make(raw.slice().buffer)
  }
}

/** True on little-endian hosts, where numeric arrays can be copied byte for byte. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function valueTypeName (code: number, what: string): GgufValueTypeName {
  const name = GGUF_VALUE_TYPES[code]
  if (name === undefined) throw fail(`${what} has value type ${code}, which GGUF does not define (0–${GGUF_VALUE_TYPES.length - 1})`)
  return name
}

function readArray (r: GgufReader, what: string, depth: number): GgufArray {
  if (depth > GGUF_LIMITS.maxArrayDepth) throw fail(`${what} nests arrays deeper than ${GGUF_LIMITS.maxArrayDepth}`)
  const itemType = valueTypeName(r.u32(`the item type of ${what}`), what)
  const n = r.count(`the length of ${what}`, GGUF_LIMITS.maxArrayLength, MIN_ITEM_BYTES[itemType])
  const item = `an item of ${what}`
  const typed = <T>(size: number, make: (b: ArrayBuffer) => T, slow: () => T): T => LITTLE_ENDIAN ? r.numbers(n, size, item, make) : slow()
  const loop = <T>(read: () => T): T[] => Array.from({ length: n }, read)
  let value: GgufArrayItems
  switch (itemType) {
    case 'u8': value = r.numbers(n, 1, item, b => new Uint8Array(b)); break
    case 'i8': value = r.numbers(n, 1, item, b => new Int8Array(b)); break
    case 'u16': value = typed(2, b => new Uint16Array(b), () => Uint16Array.from(loop(() => r.u16(item)))); break
    case 'i16': value = typed(2, b => new Int16Array(b), () => Int16Array.from(loop(() => r.i16(item)))); break
    case 'u32': value = typed(4, b => new Uint32Array(b), () => Uint32Array.from(loop(() => r.u32(item)))); break
    case 'i32': value = typed(4, b => new Int32Array(b), () => Int32Array.from(loop(() => r.i32(item)))); break
    case 'f32': value = typed(4, b => new Float32Array(b), () => Float32Array.from(loop(() => r.f32(item)))); break
    case 'f64': value = typed(8, b => new Float64Array(b), () => Float64Array.from(loop(() => r.f64(item)))); break
    case 'u64': value = typed(8, b => new BigUint64Array(b), () => BigUint64Array.from(loop(() => r.big64(false, item)))); break
    case 'i64': value = typed(8, b => new BigInt64Array(b), () => BigInt64Array.from(loop(() => r.big64(true, item)))); break
    case 'bool': value = loop(() => readBool(r, item)); break
    case 'string': value = loop(() => r.gstring(GGUF_LIMITS.maxStringBytes, item)); break
    case 'array': value = loop(() => readArray(r, item, depth + 1)); break
  }
  return { type: 'array', itemType, value }
}

function readBool (r: GgufReader, what: string): boolean {
  const b = r.u8(what)
  if (b > 1) throw fail(`${what} is a bool with the byte ${b} (only 0 and 1 are valid)`)
  return b === 1
}

function readValue (r: GgufReader, type: GgufValueTypeName, what: string): GgufValue {
  switch (type) {
    case 'u8': return { type, value: r.u8(what) }
    case 'i8': return { type, value: r.i8(what) }
    case 'u16': return { type, value: r.u16(what) }
    case 'i16': return { type, value: r.i16(what) }
    case 'u32': return { type, value: r.u32(what) }
    case 'i32': return { type, value: r.i32(what) }
    case 'f32': return { type, value: r.f32(what) }
    case 'f64': return { type, value: r.f64(what) }
    case 'u64': return { type, value: r.big64(false, what) }
    case 'i64': return { type, value: r.big64(true, what) }
    case 'bool': return { type, value: readBool(r, what) }
    case 'string': return { type, value: r.gstring(GGUF_LIMITS.maxStringBytes, what) }
    case 'array': return readArray(r, what, 1)
  }
}

/** True when `bytes` starts with the GGUF magic (a cheap format sniff). */
export function isGguf (bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x47 && bytes[1] === 0x47 && bytes[2] === 0x55 && bytes[3] === 0x46
}

/**
 * Parse a GGUF file's header, metadata and tensor infos, and check that every tensor's
 * data lies inside the file. Tensor data is not read here.
 *
 * @throws {GgufFormatError} for a bad magic, an unsupported version, truncated data, an
 *   unknown value or tensor type, a duplicate key or tensor name, a count or length over
 *   its bound, a misaligned or out-of-file tensor.
 */
export function parseGguf (bytes: Uint8Array): GgufFile {
  const r = new GgufReader(bytes)
  if (bytes.length < 4) throw fail(`the file has ${bytes.length} bytes, fewer than the 4-byte magic`)
  const magic = r.u32('the magic')
  if (magic !== GGUF_MAGIC) {
    const shown = [...bytes.subarray(0, 4)].map(b => b.toString(16).padStart(2, '0')).join(' ')
    throw fail(`the magic is ${shown}, not "GGUF" (47 47 55 46)`)
  }
  const version = r.u32('the version')
  if (!GGUF_VERSIONS.includes(version)) {
    const swapped = ((version & 0xff) << 24 | (version & 0xff00) << 8 | (version >>> 8) & 0xff00 | version >>> 24) >>> 0
    const hint = GGUF_VERSIONS.includes(swapped) ? ' (a big-endian GGUF file; convert it on a little-endian machine)' : version === 1 ? ' (version 1 predates August 2023; re-convert the model with a current llama.cpp)' : ''
    throw new GgufFormatError(`unsupported GGUF version ${version}${hint}: Cerberus reads versions ${GGUF_VERSIONS.join(' and ')}`)
  }
  // Each tensor info takes at least 8 (name length) + 4 + 4 + 8 bytes; each key/value at least 8 + 4 + 1.
  const tensorCount = r.count('the tensor count', GGUF_LIMITS.maxTensors, 24)
  const kvCount = r.count('the metadata key count', GGUF_LIMITS.maxKeys, 13)
  const metadata = new Map<string, GgufValue>()
  for (let i = 0; i < kvCount; i++) {
    const key = r.gstring(GGUF_LIMITS.maxNameBytes, `metadata key ${i}`)
    if (metadata.has(key)) throw fail(`metadata key "${key}" appears twice`)
    const type = valueTypeName(r.u32(`the type of metadata "${key}"`), `metadata "${key}"`)
    metadata.set(key, readValue(r, type, `metadata "${key}"`))
  }
  const alignment = readAlignment(metadata)
  const infos: Array<{ name: string, dims: number[], type: number, offset: number }> = []
  const names = new Set<string>()
  for (let i = 0; i < tensorCount; i++) {
    const name = r.gstring(GGUF_LIMITS.maxNameBytes, `the name of tensor ${i}`)
    if (names.has(name)) throw fail(`tensor "${name}" appears twice`)
    names.add(name)
    const nDims = r.u32(`the dimension count of tensor "${name}"`)
    if (nDims < 1 || nDims > GGUF_LIMITS.maxDims) throw fail(`tensor "${name}" has ${nDims} dimensions (1–${GGUF_LIMITS.maxDims} are valid)`)
    const dims: number[] = []
    for (let d = 0; d < nDims; d++) dims.push(r.u64(`dimension ${d} of tensor "${name}"`))
    const type = r.u32(`the type of tensor "${name}"`)
    const offset = r.u64(`the data offset of tensor "${name}"`)
    infos.push({ name, dims, type, offset })
  }
  const dataOffset = Math.ceil(r.pos / alignment) * alignment
  const dataBytes = bytes.length - dataOffset
  const tensors = infos.map(({ name, dims, type, offset }) => {
    const t = ggmlType(type)
    if (t === undefined) throw fail(`tensor "${name}" has ggml type ${type}, which is unknown (a newer llama.cpp format, or a corrupt file)`)
    let elements = 1
    for (const d of dims) {
      elements *= d
      if (!Number.isSafeInteger(elements)) throw fail(`tensor "${name}" has dimensions ${dims.join(' × ')}, too many elements`)
    }
    if (dims[0] % t.blockSize !== 0) throw fail(`tensor "${name}" is ${t.name} (blocks of ${t.blockSize}) but its rows have ${dims[0]} elements`)
    const byteLength = tensorByteLength(t, elements)
    if (offset % alignment !== 0) throw fail(`tensor "${name}" starts at data offset ${offset}, not a multiple of the alignment ${alignment}`)
    if (offset + byteLength > dataBytes) {
      throw fail(`tensor "${name}" needs bytes ${offset}…${offset + byteLength} of the data section, but the file has ${Math.max(0, dataBytes)} (it is truncated)`)
    }
    return { name, dims, type, elements, fileOffset: dataOffset + offset, byteLength }
  })
  return { version, metadata, tensors, alignment, dataOffset, bytes }
}

function readAlignment (metadata: ReadonlyMap<string, GgufValue>): number {
  const v = metadata.get('general.alignment')
  if (v === undefined) return GGUF_DEFAULT_ALIGNMENT
  if (v.type !== 'u32') throw fail(`general.alignment has type ${v.type}; GGUF requires u32`)
  const a = v.value
  if (a < 1 || a > GGUF_LIMITS.maxAlignment || (a & (a - 1)) !== 0) throw fail(`general.alignment is ${a}; it must be a power of two up to ${GGUF_LIMITS.maxAlignment}`)
  return a
}
