/**
 * The gateway's errors, each with the HTTP status and the OpenAI error `type` and `code`
 * a client expects, and their one rendering: `{"error": {"message", "type", "param",
 * "code"}}` — the shape the official clients parse (openai's `APIError` reads `param` and
 * `code` from it).
 */
import { CerberusError } from '../core/errors.ts'

/** OpenAI's error body. */
export interface OpenAiErrorBody {
  readonly error: {
    readonly message: string
    readonly type: string
    readonly param: string | null
    readonly code: string | null
  }
}

/** A request the gateway refuses or cannot serve, with its HTTP status. */
export class GatewayError extends CerberusError {
  /** HTTP status of the answer. */
  readonly status: number
  /** OpenAI's error type, e.g. `invalid_request_error`. */
  readonly type: string
  /** The request field at fault, or null. */
  readonly param: string | null

  constructor (status: number, type: string, code: string, message: string, param: string | null = null) {
    super(code, message)
    this.status = status
    this.type = type
    this.param = param
  }
}

/** 400: a field of the body is missing, of the wrong type or out of range. */
export class InvalidRequestError extends GatewayError {
  constructor (message: string, param: string | null, code = 'invalid_value') {
    super(400, 'invalid_request_error', code, message, param)
  }
}

/** 401: a token is required (the gateway listens beyond loopback) and this one is missing or wrong. */
export class UnauthorizedError extends GatewayError {
  constructor () {
    super(401, 'invalid_request_error', 'invalid_api_key', 'this gateway needs "Authorization: Bearer <token>" with the token it was started with (--token or CERBERUS_TOKEN)')
  }
}

/** 404: a model this gateway does not serve, or a route that does not exist. */
export class NotFoundError extends GatewayError {
  constructor (message: string, code: string, param: string | null = null) {
    super(404, 'invalid_request_error', code, message, param)
  }
}

/** 413: the body is larger than the gateway reads, or the prompt does not fit the model's context. */
export class TooLargeError extends GatewayError {
  constructor (message: string, code: string, param: string | null = null) {
    super(413, 'invalid_request_error', code, message, param)
  }
}

/** 429: the queue of waiting requests is full. */
export class QueueFullError extends GatewayError {
  constructor (waiting: number) {
    super(429, 'rate_limit_error', 'queue_full', `${waiting} requests are already waiting for this gateway's one pipeline; retry when one has finished`)
  }
}

/** 503: no miner serves the model now (and local mode was not asked for). */
export class NoMinersError extends GatewayError {
  constructor (message: string) {
    super(503, 'server_error', 'no_miners', message)
  }
}

/** A status and body for any thrown value: gateway errors as they are, anything else as a 500 with its message. */
export function errorResponse (err: unknown): { status: number, body: OpenAiErrorBody } {
  if (err instanceof GatewayError) {
    return { status: err.status, body: { error: { message: err.message, type: err.type, param: err.param, code: err.code } } }
  }
  const code = err instanceof CerberusError ? err.code : 'internal_error'
  const message = err instanceof Error ? err.message : String(err)
  return { status: 500, body: { error: { message, type: 'server_error', param: null, code } } }
}
