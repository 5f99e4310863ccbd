/**
 * The base of every error Cerberus throws on purpose.
 *
 * Each module defines named subclasses with a stable `code`, so callers (the CLI, the UI,
 * the worker boundary) can branch on the kind of failure without parsing messages, and so
 * errors can cross a worker or the wire as `{ name, code, message }` and be rebuilt.
 */
export class CerberusError extends Error {
  /** A stable, machine-readable identifier of the failure kind. */
  readonly code: string

  constructor (code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** An error as it crosses a boundary (a worker's message port, the job protocol). */
export interface SerializedError {
  /** The error class name, e.g. `ModelFormatError`. */
  readonly name: string
  /** A stable machine-readable kind, e.g. `MODEL_FORMAT`; `INTERNAL` for unexpected failures. */
  readonly code: string
  /** The human-readable explanation, shown to the user as is. */
  readonly message: string
}

/**
 * Flatten any thrown value into a {@link SerializedError} — the one serializer of the
 * project (the worker boundary and the miner's error replies use it), so an error never
 * turns into a bare string.
 */
export function serializeError (err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return { name: err.name, code: typeof code === 'string' ? code : 'INTERNAL', message: err.message }
  }
  return { name: 'Error', code: 'INTERNAL', message: String(err) }
}

/** An error thrown on the other side of a boundary, rebuilt here with its name and code. */
export class RemoteError extends CerberusError {
  constructor (error: SerializedError) {
    super(error.code, error.message)
    this.name = error.name
  }
}
