/**
 * The endpoints: `GET /v1/models` (and `/v1/models/{id}`), `POST /v1/chat/completions` and
 * `POST /v1/completions`, each streamed (`stream: true`, Server-Sent Events in OpenAI's
 * chunk shape) or whole. Errors before a stream opens are thrown for the server to answer
 * in OpenAI's error shape; an error after it opened is the stream's last event.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { GatewayBackend } from './backend.ts'
import { chatPrompt } from './chat-prompt.ts'
import { runCompletion, type CompletionResult } from './completion-run.ts'
import { errorResponse, NotFoundError } from './errors.ts'
import { sendJson } from './http-json.ts'
import { chatChunk, chatCompletion, modelList, textChunk, textCompletion, usageChunk, type ResponseHead } from './openai-shapes.ts'
import type { FairQueue } from './queue.ts'
import { readJsonBody } from './read-body.ts'
import { endEventStream, openEventStream, sendEvent } from './sse.ts'
import { parseChatRequest, parseCompletionRequest, type GenerationRequest } from './validate.ts'

/** What the routes share. */
export interface RouteContext {
  readonly backend: GatewayBackend
  readonly queue: FairQueue
  /** Told about every answer that ran (logs, tests). */
  readonly onAnswer?: (info: AnswerInfo) => void
}

/** One answer, as `onAnswer` reports it. */
export interface AnswerInfo {
  readonly endpoint: 'chat' | 'completions'
  readonly client: string
  readonly result?: CompletionResult
  /** The client left before the end. */
  readonly disconnected: boolean
  readonly error?: unknown
}

/** `GET /v1/models` and `GET /v1/models/{id}`. */
export function handleModels (ctx: RouteContext, res: ServerResponse, id?: string): void {
  const m = ctx.backend.model
  if (id !== undefined && id !== m.id) throw new NotFoundError(`The model '${id}' does not exist; this gateway serves '${m.id}'`, 'model_not_found', 'model')
  const list = modelList([{ id: m.id, created: m.created }]) as { data: unknown[] }
  sendJson(res, 200, id === undefined ? list : list.data[0])
}

const newId = (prefix: string): string => `${prefix}-${crypto.randomUUID().replaceAll('-', '')}`

/** `POST /v1/chat/completions` (`endpoint` 'chat') or `POST /v1/completions`. */
export async function handleCompletion (ctx: RouteContext, endpoint: 'chat' | 'completions', req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonBody(req)
  const model = ctx.backend.model
  let request: GenerationRequest
  let prompt: string
  if (endpoint === 'chat') {
    const chat = parseChatRequest(body)
    request = chat
    prompt = chatPrompt(chat.messages, model.chatTemplate)
  } else {
    const completion = parseCompletionRequest(body)
    request = completion
    prompt = completion.prompt
  }
  if (request.model !== model.id) throw new NotFoundError(`The model '${request.model}' does not exist; this gateway serves '${model.id}' (GET /v1/models)`, 'model_not_found', 'model')

  const head: ResponseHead = { id: newId(endpoint === 'chat' ? 'chatcmpl' : 'cmpl'), created: Math.floor(Date.now() / 1000), model: model.id }
  const chunk = endpoint === 'chat' ? chatChunk : textChunk
  // A client that goes away stops its answer: the pipeline sees the abort between linear layers.
  const left = new AbortController()
  res.on('close', () => { if (!res.writableFinished) left.abort(new Error('the client disconnected')) })
  const client = req.socket.remoteAddress ?? 'unknown'
  let streaming = false
  try {
    const result = await runCompletion(ctx.backend, ctx.queue, {
      prompt,
      special: endpoint === 'chat' && model.chatTemplate !== undefined,
      promptParam: endpoint === 'chat' ? 'messages' : 'prompt',
      request,
      client,
      signal: left.signal,
      onStart: () => {
        if (!request.stream) return
        streaming = true
        openEventStream(res)
        if (endpoint === 'chat') sendEvent(res, chunk(head, { kind: 'role' }))
      },
      onText: text => { if (streaming) sendEvent(res, chunk(head, { kind: 'text', text })) }
    })
    ctx.onAnswer?.({ endpoint, client, result, disconnected: left.signal.aborted })
    if (left.signal.aborted) return
    if (streaming) {
      sendEvent(res, chunk(head, { kind: 'finish', finish: result.finish, receipt: result.receipt }))
      if (request.includeUsage) sendEvent(res, usageChunk(head, endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion', result.usage))
      endEventStream(res)
    } else {
      const whole = endpoint === 'chat' ? chatCompletion : textCompletion
      sendJson(res, 200, whole(head, result.text, result.finish, result.usage, result.receipt))
    }
  } catch (err) {
    if (left.signal.aborted) {
      ctx.onAnswer?.({ endpoint, client, disconnected: true, error: err })
      return
    }
    ctx.onAnswer?.({ endpoint, client, disconnected: false, error: err })
    if (!streaming) throw err
    sendEvent(res, errorResponse(err).body)
    endEventStream(res)
  }
}
