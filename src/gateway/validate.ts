/**
 * Typed validation of the bodies of `POST /v1/chat/completions` and `POST /v1/completions`:
 * every field the gateway reads is checked for type and range before any work is done, and
 * a bad one is a 400 naming it (`param`), as OpenAI's API does. Fields the gateway does not
 * implement but that change what an answer means (`n` ≠ 1, `logprobs`, `echo`, `tools`,
 * a non-text `response_format`) are refused rather than silently ignored; harmless ones
 * (`user`, `metadata`, penalties of 0, …) are ignored.
 */
import { InvalidRequestError } from './errors.ts'

/**
 * At most this many stop sequences, each at most {@link MAX_STOP_CHARS} long: OpenAI's own
 * limit is 4; the length bound keeps the per-token matching cheap.
 */
export const MAX_STOP_SEQUENCES = 4
/** Longest stop sequence, in UTF-16 code units. */
export const MAX_STOP_CHARS = 256
/** Most messages in one chat request (a bound on work before the context check). */
export const MAX_MESSAGES = 1024

/** One chat message, its content as text. */
export interface ChatMessage {
  readonly role: 'system' | 'developer' | 'user' | 'assistant' | 'tool'
  readonly content: string
}

/** What both endpoints ask for, validated. */
export interface GenerationRequest {
  readonly model: string
  /** New tokens wanted (capped by the context); absent = as many as the context allows. */
  readonly maxTokens?: number
  /** 0 = greedy; OpenAI's default 1. */
  readonly temperature: number
  /** Nucleus mass; OpenAI's default 1 (no cut, as run.c treats 1). */
  readonly topP: number
  readonly seed?: number
  readonly stop: readonly string[]
  readonly stream: boolean
  /** `stream_options.include_usage`: a last chunk with usage. */
  readonly includeUsage: boolean
}

/** A validated chat request. */
export interface ChatRequest extends GenerationRequest {
  readonly messages: readonly ChatMessage[]
}

/** A validated text completion request. */
export interface CompletionRequest extends GenerationRequest {
  readonly prompt: string
}

type Body = Record<string, unknown>

const ROLES: ReadonlySet<string> = new Set(['system', 'developer', 'user', 'assistant', 'tool'])

const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v)
const absent = (v: unknown): boolean => v === undefined || v === null

function typeName (v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v
}

function numberIn (body: Body, key: string, min: number, max: number, fallback: number): number {
  const v = body[key]
  if (absent(v)) return fallback
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidRequestError(`${key} must be a number, got ${typeName(v)}`, key, 'invalid_type')
  if (v < min || v > max) throw new InvalidRequestError(`${key} must be between ${min} and ${max}, got ${v}`, key)
  return v
}

function integerIn (body: Body, key: string, min: number, max: number): number | undefined {
  const v = body[key]
  if (absent(v)) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new InvalidRequestError(`${key} must be an integer, got ${typeof v === 'number' ? v : typeName(v)}`, key, 'invalid_type')
  if (v < min || v > max) throw new InvalidRequestError(`${key} must be between ${min} and ${max}, got ${v}`, key)
  return v
}

function booleanOf (body: Body, key: string): boolean {
  const v = body[key]
  if (absent(v)) return false
  if (typeof v !== 'boolean') throw new InvalidRequestError(`${key} must be true or false, got ${typeName(v)}`, key, 'invalid_type')
  return v
}

function stopOf (body: Body): string[] {
  const v = body.stop
  if (absent(v)) return []
  const list = typeof v === 'string' ? [v] : v
  if (!Array.isArray(list) || !list.every(s => typeof s === 'string')) throw new InvalidRequestError(`stop must be a string or an array of strings, got ${typeName(v)}`, 'stop', 'invalid_type')
  if (list.length > MAX_STOP_SEQUENCES) throw new InvalidRequestError(`stop takes at most ${MAX_STOP_SEQUENCES} sequences, got ${list.length}`, 'stop')
  for (const s of list as string[]) {
    if (s === '') throw new InvalidRequestError('a stop sequence must not be empty', 'stop')
    if (s.length > MAX_STOP_CHARS) throw new InvalidRequestError(`a stop sequence is at most ${MAX_STOP_CHARS} characters, got ${s.length}`, 'stop')
  }
  return list as string[]
}

/** Refuse what the gateway cannot do rather than answer something else. */
function refuseUnsupported (body: Body, extra: readonly string[]): void {
  const n = integerIn(body, 'n', 1, 128)
  if (n !== undefined && n !== 1) throw new InvalidRequestError(`only n = 1 is supported (one answer per request: one HE session generates one answer at a time), got ${n}`, 'n', 'unsupported_value')
  for (const key of ['logprobs', 'echo', ...extra]) {
    const v = body[key]
    if (!absent(v) && v !== false && !(Array.isArray(v) && v.length === 0)) throw new InvalidRequestError(`${key} is not supported by this gateway`, key, 'unsupported_parameter')
  }
  const best = body.best_of
  if (!absent(best) && best !== 1) throw new InvalidRequestError('only best_of = 1 is supported', 'best_of', 'unsupported_value')
  const format = body.response_format
  if (!absent(format) && !(isObject(format) && format.type === 'text')) throw new InvalidRequestError('only response_format {"type": "text"} is supported', 'response_format', 'unsupported_value')
  for (const key of ['frequency_penalty', 'presence_penalty']) {
    if (numberIn(body, key, -2, 2, 0) !== 0) throw new InvalidRequestError(`${key} is not supported (only 0)`, key, 'unsupported_value')
  }
}

function common (body: unknown, tokenKeys: readonly string[], extra: readonly string[]): { body: Body, request: GenerationRequest } {
  if (!isObject(body)) throw new InvalidRequestError(`the body must be a JSON object, got ${typeName(body)}`, null, 'invalid_type')
  const model = body.model
  if (typeof model !== 'string' || model === '') throw new InvalidRequestError(`model must be a non-empty string (GET /v1/models lists them), got ${typeName(model)}`, 'model', absent(model) ? 'missing_required_parameter' : 'invalid_type')
  refuseUnsupported(body, extra)
  let maxTokens: number | undefined
  for (const key of tokenKeys) maxTokens ??= integerIn(body, key, 1, 1 << 30)
  const options = body.stream_options
  if (!absent(options) && !isObject(options)) throw new InvalidRequestError(`stream_options must be an object, got ${typeName(options)}`, 'stream_options', 'invalid_type')
  const stream = booleanOf(body, 'stream')
  return {
    body,
    request: {
      model,
      ...(maxTokens === undefined ? {} : { maxTokens }),
      temperature: numberIn(body, 'temperature', 0, 2, 1),
      topP: numberIn(body, 'top_p', 0, 1, 1),
      ...(() => { const seed = integerIn(body, 'seed', -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER); return seed === undefined ? {} : { seed } })(),
      stop: stopOf(body),
      stream,
      includeUsage: stream && isObject(options) && booleanOf(options, 'include_usage')
    }
  }
}

/** A message's content as text: a string, or an array of `{type: 'text', text}` parts. */
function contentOf (v: unknown, i: number, role: string): string {
  const param = `messages[${i}].content`
  if (typeof v === 'string') return v
  if (absent(v) && role === 'assistant') return ''
  if (Array.isArray(v)) {
    return v.map((p, j) => {
      if (!isObject(p) || p.type !== 'text' || typeof p.text !== 'string') throw new InvalidRequestError(`${param}[${j}] must be {"type": "text", "text": "…"} (this model reads text only)`, `${param}[${j}]`, 'unsupported_value')
      return p.text
    }).join('')
  }
  throw new InvalidRequestError(`${param} must be a string or an array of text parts, got ${typeName(v)}`, param, 'invalid_type')
}

/** Validate a `POST /v1/chat/completions` body. @throws {InvalidRequestError} naming the bad field. */
export function parseChatRequest (raw: unknown): ChatRequest {
  const { body, request } = common(raw, ['max_completion_tokens', 'max_tokens'], ['tools', 'functions', 'tool_choice', 'audio', 'modalities'])
  const messages = body.messages
  if (!Array.isArray(messages) || messages.length === 0) throw new InvalidRequestError(`messages must be a non-empty array, got ${Array.isArray(messages) ? 'an empty array' : typeName(messages)}`, 'messages', absent(messages) ? 'missing_required_parameter' : 'invalid_type')
  if (messages.length > MAX_MESSAGES) throw new InvalidRequestError(`at most ${MAX_MESSAGES} messages, got ${messages.length}`, 'messages')
  const parsed = messages.map((m: unknown, i): ChatMessage => {
    if (!isObject(m)) throw new InvalidRequestError(`messages[${i}] must be an object, got ${typeName(m)}`, `messages[${i}]`, 'invalid_type')
    if (typeof m.role !== 'string' || !ROLES.has(m.role)) throw new InvalidRequestError(`messages[${i}].role must be one of ${[...ROLES].join(', ')}, got ${JSON.stringify(m.role)}`, `messages[${i}].role`)
    return { role: m.role as ChatMessage['role'], content: contentOf(m.content, i, m.role) }
  })
  return { ...request, messages: parsed }
}

/** Validate a `POST /v1/completions` body. @throws {InvalidRequestError} naming the bad field. */
export function parseCompletionRequest (raw: unknown): CompletionRequest {
  const { body, request } = common(raw, ['max_tokens'], ['suffix'])
  let prompt = body.prompt
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') prompt = prompt[0]
  if (absent(prompt)) prompt = ''
  if (typeof prompt !== 'string') throw new InvalidRequestError(`prompt must be a string (or an array of one string; token arrays and several prompts are not supported), got ${typeName(prompt)}`, 'prompt', 'invalid_type')
  return { ...request, prompt }
}
