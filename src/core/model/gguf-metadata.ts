/**
 * Typed reads of GGUF metadata: a key that is present with the wrong type is an error
 * that names the key, the type found and the type expected, never a silent default.
 */
import { GgufFormatError } from './errors.ts'
import type { GgufFile, GgufValue } from './gguf.ts'

type Meta = GgufFile['metadata']

const INTEGER_TYPES = new Set(['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'u64', 'i64'])

function wrong (key: string, v: GgufValue, expected: string): GgufFormatError {
  const found = v.type === 'array' ? `an array of ${v.itemType}` : v.type
  return new GgufFormatError(`not a valid model: metadata "${key}" is ${found}, expected ${expected}`)
}

function missing (key: string): GgufFormatError {
  return new GgufFormatError(`not a valid model: the file has no metadata "${key}"`)
}

/** A string value, or undefined when the key is absent. */
export function metaString (meta: Meta, key: string): string | undefined {
  const v = meta.get(key)
  if (v === undefined) return undefined
  if (v.type !== 'string') throw wrong(key, v, 'a string')
  return v.value
}

/** A non-negative integer of any width that fits a JS safe integer, or undefined. */
export function metaUint (meta: Meta, key: string): number | undefined {
  const v = meta.get(key)
  if (v === undefined) return undefined
  if (!INTEGER_TYPES.has(v.type)) throw wrong(key, v, 'an integer')
  const n = Number(v.value)
  if (!Number.isSafeInteger(n) || n < 0) throw new GgufFormatError(`not a valid model: metadata "${key}" is ${String(v.value)}, expected a non-negative integer`)
  return n
}

/** A number (float or integer), or undefined. */
export function metaNumber (meta: Meta, key: string): number | undefined {
  const v = meta.get(key)
  if (v === undefined) return undefined
  if (v.type === 'f32' || v.type === 'f64') return v.value
  if (INTEGER_TYPES.has(v.type)) return Number(v.value)
  throw wrong(key, v, 'a number')
}

/** A bool, or undefined. */
export function metaBool (meta: Meta, key: string): boolean | undefined {
  const v = meta.get(key)
  if (v === undefined) return undefined
  if (v.type !== 'bool') throw wrong(key, v, 'a bool')
  return v.value
}

/** An array of strings, or undefined. */
export function metaStrings (meta: Meta, key: string): readonly string[] | undefined {
  const v = meta.get(key)
  if (v === undefined) return undefined
  if (v.type !== 'array' || v.itemType !== 'string') throw wrong(key, v, 'an array of strings')
  return v.value as string[]
}

/** An array of numbers (any numeric item type, 64-bit ones converted), or undefined. */
export function metaNumbers (meta: Meta, key: string): ArrayLike<number> | undefined {
  const v = meta.get(key)
  if (v === undefined) return undefined
  if (v.type !== 'array' || v.itemType === 'string' || v.itemType === 'array' || v.itemType === 'bool') throw wrong(key, v, 'an array of numbers')
  const items = v.value
  if (items instanceof BigInt64Array || items instanceof BigUint64Array) return Array.from(items, Number)
  return items as ArrayLike<number>
}

/** Like the getter, but the key must be present. */
export function required<T> (meta: Meta, key: string, get: (m: Meta, k: string) => T | undefined): T {
  const v = get(meta, key)
  if (v === undefined) throw missing(key)
  return v
}
