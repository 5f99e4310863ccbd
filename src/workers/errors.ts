/**
 * Errors of the generation worker and its client.
 */
import { CerberusError } from '../core/errors.ts'

/** The default model could not be fetched from the page's origin. */
export class ModelFetchError extends CerberusError {
  constructor (message: string, options?: { cause?: unknown }) {
    super('MODEL_FETCH', message, options)
  }
}

/** A generation was requested while another one is still running in the same worker. */
export class GenerateBusyError extends CerberusError {
  constructor (message: string) {
    super('GENERATE_BUSY', message)
  }
}

/** A message that is not part of the protocol reached the worker. */
export class WorkerProtocolError extends CerberusError {
  constructor (message: string) {
    super('WORKER_PROTOCOL', message)
  }
}

/** The worker failed to start or crashed; every pending request fails with this. */
export class WorkerCrashedError extends CerberusError {
  constructor (message: string) {
    super('WORKER_CRASHED', message)
  }
}

/** An HE worker did not answer in time; it was terminated and replaced. */
export class HeWorkerTimeoutError extends CerberusError {
  constructor (message: string) {
    super('HE_WORKER_TIMEOUT', message)
  }
}

/**
 * Ciphertexts from before a user worker was replaced cannot be decrypted: the new worker
 * has new keys. Encrypt again.
 */
export class HeKeysRotatedError extends CerberusError {
  constructor (message: string) {
    super('HE_KEYS_ROTATED', message)
  }
}
