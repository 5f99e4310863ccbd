import { CerberusError } from '../errors.ts'

/** Parameters that SEAL refuses, that are not 128-bit secure, or that cannot hold a result. */
export class HeParamsError extends CerberusError {
  constructor (message: string) {
    super('HE_PARAMS', message)
  }
}

/**
 * An HE object on the wire is malformed: wrong magic or version, wrong parameters,
 * truncated or oversized, a coefficient out of range. Raised before SEAL sees the bytes.
 */
export class HeWireError extends CerberusError {
  constructor (message: string) {
    super('HE_WIRE', message)
  }
}

/** SEAL itself failed (the WebAssembly exception, rewrapped with SEAL's message). */
export class SealError extends CerberusError {
  constructor (message: string, cause?: unknown) {
    super('SEAL', message, { cause })
  }
}

/** A job does not fit the plan it claims (wrong number of ciphertexts, wrong matrix). */
export class HeJobError extends CerberusError {
  constructor (message: string) {
    super('HE_JOB', message)
  }
}

/**
 * Ciphertexts from before the user's keys were replaced cannot be decrypted (the keys
 * rotated after a rejected result, or the user's HE worker was replaced): encrypt again.
 */
export class HeKeysRotatedError extends CerberusError {
  constructor (message: string) {
    super('HE_KEYS_ROTATED', message)
  }
}

/**
 * Run `fn`, turning a SEAL WebAssembly exception (whose `message` is `[type, text]`)
 * into a {@link SealError} naming what was being done.
 */
export function sealCall<T> (what: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof CerberusError) throw err
    const m = (err as { message?: unknown }).message
    const text = Array.isArray(m) ? m.join(': ') : String(m ?? err)
    throw new SealError(`SEAL failed to ${what}: ${text}`, err)
  }
}
