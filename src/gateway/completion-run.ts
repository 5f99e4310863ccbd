/**
 * One request's answer, whatever its endpoint or streaming: the context check (413), the
 * path (503 when no miner serves the model), a fair turn in the queue (429 when full), then
 * generation — stop sequences cut the text and end it, a client that goes away stops it
 * (its signal aborts the pipeline between linear layers), and the usage, finish reason and
 * receipt come out at the end.
 */
import { LOCAL_MODE_LABEL, type AnswerReceipt } from '../app/index.ts'
import type { GatewayBackend } from './backend.ts'
import { TooLargeError } from './errors.ts'
import { usageOf, type CerberusReceipt, type FinishReason, type Usage } from './openai-shapes.ts'
import type { FairQueue } from './queue.ts'
import { stopMatcher } from './stop-sequences.ts'
import type { GenerationRequest } from './validate.ts'

/** What the receipt of a private answer says in words. */
export const PRIVATE_MODE_LABEL = 'Encrypted on this machine; miners computed on ciphertexts only; every result verified'

/** One request to run. */
export interface CompletionJob {
  readonly prompt: string
  /** The prompt is a rendered chat template (its special tokens are parsed). */
  readonly special?: boolean
  /** The field the prompt came from, for a 413's `param` (`messages` or `prompt`). */
  readonly promptParam: string
  readonly request: GenerationRequest
  /** Who asked (the queue is fair across clients). */
  readonly client: string
  /** Aborted when the client disconnects. */
  readonly signal: AbortSignal
  /** Called once the request has the pipeline, before the first text (a stream opens here). */
  readonly onStart?: () => void
  /** The answer's text as it may be sent (stop sequences held back and cut). */
  readonly onText?: (delta: string) => void
}

/** How it ended. */
export interface CompletionResult {
  readonly text: string
  readonly finish: FinishReason
  readonly usage: Usage
  readonly receipt: CerberusReceipt
}

function labelled (receipt: AnswerReceipt, mode: 'private' | 'local'): CerberusReceipt {
  return { ...receipt, mode, note: mode === 'local' ? LOCAL_MODE_LABEL : PRIVATE_MODE_LABEL }
}

/**
 * Run `job` on `backend` in its turn of `queue`.
 * @throws {TooLargeError} (413), {NoMinersError} (503), {QueueFullError} (429), the pipeline's errors;
 *   rejects with the signal's reason when the client left while it waited.
 */
export async function runCompletion (backend: GatewayBackend, queue: FairQueue, job: CompletionJob): Promise<CompletionResult> {
  const { model } = backend
  const promptTokens = model.countTokens(job.prompt, job.special)
  // The last prompt position's output is the first new token: a prompt of exactly the context still gets one.
  const room = model.contextLength - promptTokens + 1
  if (room < 1) throw new TooLargeError(`the prompt is ${promptTokens} tokens (BOS included); ${model.id}'s context is ${model.contextLength}: shorten it`, 'context_length_exceeded', job.promptParam)
  backend.path() // 503 before waiting in the queue
  const release = await queue.acquire(job.client, job.signal)
  try {
    const path = backend.path() // miners may have gone while it waited
    job.onStart?.()
    const maxTokens = Math.min(job.request.maxTokens ?? room, room)
    const matcher = stopMatcher(job.request.stop)
    const cut = new AbortController()
    let text = ''
    const emit = (piece: string): void => {
      if (piece === '') return
      text += piece
      job.onText?.(piece)
    }
    const receipt = await path.generate(job.prompt, {
      temperature: job.request.temperature,
      topp: job.request.topP,
      maxTokens,
      ...(job.special === true ? { specialTokens: true } : {}),
      ...(job.request.seed === undefined ? {} : { seed: job.request.seed })
    }, {
      signal: AbortSignal.any([job.signal, cut.signal]),
      onText: delta => {
        emit(matcher.push(delta))
        if (matcher.stopped) cut.abort()
      }
    })
    emit(matcher.flush())
    // A stop sequence, or the model's own end (BOS sampled before max_tokens), is 'stop'.
    const finish: FinishReason = !matcher.stopped && receipt.tokens >= maxTokens ? 'length' : 'stop'
    // Ending at a stop sequence is the answer's end, not a stop by the client.
    const { stopped, ...complete } = receipt
    return { text, finish, usage: usageOf(promptTokens, receipt.tokens), receipt: labelled(stopped === true && !matcher.stopped ? receipt : complete, path.mode) }
  } finally {
    release()
  }
}
