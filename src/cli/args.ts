/**
 * Strict parsing of the CLI's numeric and enumerated options: a clear message naming the
 * option and the bad value, never a silent NaN.
 */
import { CerberusError } from '../core/errors.ts'

/** Bad command-line usage (unknown option, missing or malformed value). Exit status 2. */
export class UsageError extends CerberusError {
  constructor (message: string) {
    super('USAGE', message)
  }
}

/** A finite decimal number (as C's atof would read a well-formed one). */
export function parseNumber (name: string, raw: string, min: number, max: number): number {
  const v = raw.trim() === '' ? Number.NaN : Number(raw)
  if (!Number.isFinite(v)) throw new UsageError(`--${name} must be a number, got "${raw}"`)
  if (v < min || v > max) throw new UsageError(`--${name} must be in [${min}, ${max}], got ${raw}`)
  return v
}

/** A whole number in [min, max]. */
export function parseInteger (name: string, raw: string, min: number, max: number): number {
  if (!/^[+-]?\d+$/.test(raw.trim())) throw new UsageError(`--${name} must be a whole number, got "${raw}"`)
  const v = Number(raw)
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new UsageError(`--${name} must be a whole number in [${min}, ${max}], got ${raw}`)
  return v
}

/**
 * run.c's seed: any integer, taken modulo 2^64; 0 (or absent) means "the current time in
 * seconds", as run.c does.
 */
export function parseSeed (raw: string | undefined, now: () => number = () => Math.floor(Date.now() / 1000)): bigint {
  if (raw === undefined) return BigInt(now())
  if (!/^[+-]?\d+$/.test(raw.trim())) throw new UsageError(`--seed must be a whole number, got "${raw}"`)
  const v = BigInt.asUintN(64, BigInt(raw.trim()))
  return v === 0n ? BigInt(now()) : v
}

/** One of a fixed set of words. */
export function parseChoice<T extends string> (name: string, raw: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${raw}"`)
  return raw as T
}
