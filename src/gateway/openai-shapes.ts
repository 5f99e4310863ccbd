/**
 * OpenAI's wire shapes, as the gateway answers them: the model list, `chat.completion`
 * and `text_completion` objects, their streamed chunks (`chat.completion.chunk` with
 * `choices[0].delta`; `text_completion` with `choices[0].text`), and `usage`. Field names
 * and nesting follow OpenAI's API reference, so every existing client parses them; the one
 * addition is `cerberus`, the answer's receipt.
 */
import type { AnswerReceipt } from '../app/index.ts'

/** Why generation ended: a stop sequence or the model's end-of-text (`stop`), or `max_tokens` or the context (`length`). */
export type FinishReason = 'stop' | 'length'

/** Token counts of one answer (the prompt's include BOS, which the model reads). */
export interface Usage {
  readonly prompt_tokens: number
  readonly completion_tokens: number
  readonly total_tokens: number
}

/** The extra `cerberus` field: how the answer was made and what it cost (the receipt of `generate --receipt`). */
export type CerberusReceipt = AnswerReceipt & {
  /** `private`: encrypted, computed by miners, verified; `local`: plaintext on the gateway's machine. */
  readonly mode: 'private' | 'local'
  /** Plain words for people reading the JSON. */
  readonly note: string
}

/** What every response of one request shares. */
export interface ResponseHead {
  readonly id: string
  /** Unix seconds. */
  readonly created: number
  readonly model: string
}

/** Usage from the prompt's token count and the answer's. */
export function usageOf (promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens }
}

/** `GET /v1/models`. */
export function modelList (models: ReadonlyArray<{ id: string, created: number }>): unknown {
  return { object: 'list', data: models.map(m => ({ id: m.id, object: 'model', created: m.created, owned_by: 'cerberus' })) }
}

/** A whole chat answer (`stream: false`). */
export function chatCompletion (h: ResponseHead, text: string, finish: FinishReason, usage: Usage, receipt: CerberusReceipt): unknown {
  return {
    id: h.id,
    object: 'chat.completion',
    created: h.created,
    model: h.model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finish }],
    usage,
    cerberus: receipt
  }
}

/** A whole text completion (`stream: false`). */
export function textCompletion (h: ResponseHead, text: string, finish: FinishReason, usage: Usage, receipt: CerberusReceipt): unknown {
  return {
    id: h.id,
    object: 'text_completion',
    created: h.created,
    model: h.model,
    choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
    usage,
    cerberus: receipt
  }
}

/** What a streamed chunk carries: the first (the role), a piece of text, or the last (why it ended, and the receipt). */
export type ChunkPart =
  | { readonly kind: 'role' }
  | { readonly kind: 'text', readonly text: string }
  | { readonly kind: 'finish', readonly finish: FinishReason, readonly receipt: CerberusReceipt }

/** A `chat.completion.chunk`. */
export function chatChunk (h: ResponseHead, part: ChunkPart): unknown {
  const delta = part.kind === 'role' ? { role: 'assistant', content: '' } : part.kind === 'text' ? { content: part.text } : {}
  return {
    id: h.id,
    object: 'chat.completion.chunk',
    created: h.created,
    model: h.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: part.kind === 'finish' ? part.finish : null }],
    ...(part.kind === 'finish' ? { cerberus: part.receipt } : {})
  }
}

/** A streamed `text_completion` chunk (text completions have no role chunk). */
export function textChunk (h: ResponseHead, part: ChunkPart): unknown {
  return {
    id: h.id,
    object: 'text_completion',
    created: h.created,
    model: h.model,
    choices: [{ text: part.kind === 'text' ? part.text : '', index: 0, logprobs: null, finish_reason: part.kind === 'finish' ? part.finish : null }],
    ...(part.kind === 'finish' ? { cerberus: part.receipt } : {})
  }
}

/** The usage chunk sent last when `stream_options.include_usage` is true: no choices, only usage. */
export function usageChunk (h: ResponseHead, object: 'chat.completion.chunk' | 'text_completion', usage: Usage): unknown {
  return { id: h.id, object, created: h.created, model: h.model, choices: [], usage }
}
