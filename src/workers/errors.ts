/**
 * Errors of the HE workers and their clients.
 */
import { CerberusError } from '../core/errors.ts'

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

/** Results of keys that were replaced (a rotation, a new worker): defined with the HE layer, whose sessions raise it too. */
export { HeKeysRotatedError } from '../core/he/index.ts'
