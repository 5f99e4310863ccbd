/**
 * Errors crossing a worker boundary: flattened to `{ name, code, message }` on one side,
 * rebuilt as an error with the same name and code on the other (never turned into a
 * bare string).
 */
import { CerberusError } from '../core/errors.ts'

/** An error as it crosses the worker boundary. */
export interface SerializedError {
  /** The error class name, e.g. `ModelFormatError`. */
  readonly name: string
  /** A stable machine-readable kind, e.g. `MODEL_FORMAT`; `INTERNAL` for unexpected failures. */
  readonly code: string
  /** The human-readable explanation, shown to the user as is. */
  readonly message: string
}

/** Flatten any thrown value into a {@link SerializedError}. */
export function serializeError (err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return { name: err.name, code: typeof code === 'string' ? code : 'INTERNAL', message: err.message }
  }
  return { name: 'Error', code: 'INTERNAL', message: String(err) }
}

/** An error thrown in a worker (or by the worker itself), rebuilt on the calling side. */
export class WorkerRemoteError extends CerberusError {
  constructor (error: SerializedError) {
    super(error.code, error.message)
    this.name = error.name
  }
}
