/**
 * Messages between a page and its local-generation Web Worker (local.worker.web.ts). Both
 * ends are this codebase's, in one origin, so the messages are structured-cloned objects,
 * not a wire format: the model goes in once, then one answer at a time, its text streaming
 * back as deltas.
 */
import type { SerializedError } from '../core/errors.ts'
import type { GenerationSettings } from './answer-loop.ts'
import type { LocalGenerationOptions } from './local-generation.ts'
import type { ModelFiles } from './model-source.ts'
import type { AnswerReceipt } from './types.ts'

/**
 * Page → worker. The model goes as its file bytes, which the worker parses itself: a
 * parsed tokenizer holds functions, and a structured clone cannot carry those.
 */
export type LocalRequest =
  | { readonly type: 'model', readonly files: ModelFiles, readonly options: LocalGenerationOptions }
  | { readonly type: 'generate', readonly id: number, readonly prompt: string, readonly settings: GenerationSettings }
  | { readonly type: 'stop', readonly id: number }

/** Worker → page, for answer `id`. */
export type LocalReply =
  | { readonly type: 'text', readonly id: number, readonly delta: string }
  | { readonly type: 'done', readonly id: number, readonly receipt: AnswerReceipt }
  | { readonly type: 'error', readonly id: number, readonly error: SerializedError }
