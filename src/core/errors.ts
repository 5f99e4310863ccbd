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
