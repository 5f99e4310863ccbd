/**
 * The messages between the UI thread and the generation worker, one type per kind.
 *
 * Every request carries an `id`; every reply names the request it answers. Model bytes
 * travel as transferred `ArrayBuffer`s, never copied or encoded. Errors cross as plain
 * `{ name, code, message }` ({@link SerializedError}) and are rebuilt on the other side
 * as {@link WorkerRemoteError}, so the UI can branch on `code` and show `message`.
 *
 * Shape of an exchange:
 * ```
 * UI → worker   { type: 'generate', id: 1, prompt: '', steps: 60, ... }
 * worker → UI   { type: 'model-loaded', id: 1, model }   (only when it had to fetch the default model)
 * worker → UI   { type: 'chunk', id: 1, text: 'Once upon a time' } …
 * UI → worker   { type: 'abort', id: 1 }                  (optional: Stop)
 * worker → UI   { type: 'done', id: 1, tokens: 60, ... }  or  { type: 'error', id: 1, error }
 * ```
 */
import { serializeError, WorkerRemoteError, type SerializedError } from './remote-error.ts'
import type { EngineKind } from '../core/model/index.ts'

/** Where the browser fetches the default model (served by `src/node/vite-model-plugin.ts`). */
export const DEFAULT_MODEL_URLS = {
  checkpoint: '/models/default/stories260K.bin',
  tokenizer: '/models/default/tok512.bin'
} as const

/** What a generation run needs besides the model. */
export interface GenerateParams {
  readonly prompt: string
  /** Positions to run, prompt included; 0 means the model's whole context (run.c's -n). */
  readonly steps: number
  /** 0 = greedy argmax. */
  readonly temperature: number
  /** Nucleus mass in [0, 1] (run.c's -p). */
  readonly topp: number
  /** Non-zero RNG seed (run.c's -s); irrelevant when greedy. */
  readonly seed: number
  readonly engine: EngineKind
}

/** Facts about the loaded model, for display. */
export interface ModelSummary {
  /** `default`: fetched from {@link DEFAULT_MODEL_URLS}; `file`: picked by the user. */
  readonly source: 'default' | 'file'
  readonly checkpointName: string
  readonly tokenizerName: string
  readonly checkpointBytes: number
  readonly dim: number
  readonly nLayers: number
  readonly nHeads: number
  readonly vocabSize: number
  readonly seqLen: number
}

/** Generate text; the worker fetches the default model first if none is loaded. */
export interface GenerateRequest extends GenerateParams {
  readonly type: 'generate'
  readonly id: number
}

/** Stop the generation `id` between two tokens (ignored if it already ended). */
export interface AbortRequest {
  readonly type: 'abort'
  readonly id: number
}

/** Replace the model with user-picked files. Transfer both buffers. */
export interface LoadModelRequest {
  readonly type: 'load-model'
  readonly id: number
  readonly checkpoint: ArrayBuffer
  readonly tokenizer: ArrayBuffer
  readonly checkpointName: string
  readonly tokenizerName: string
}

/** Every message the UI thread sends to the worker. */
export type MainToWorker = GenerateRequest | AbortRequest | LoadModelRequest

/** A model was parsed and is now the one generations use. */
export interface ModelLoadedMessage {
  readonly type: 'model-loaded'
  readonly id: number
  readonly model: ModelSummary
}

/** Newly decoded text of generation `id` (several tokens batched; complete UTF-8 only). */
export interface ChunkMessage {
  readonly type: 'chunk'
  readonly id: number
  readonly text: string
}

/** What a finished (or stopped) run measured. */
export interface GenerateResult {
  /** Tokens emitted, prompt tokens included (= forward passes run). */
  readonly tokens: number
  /** How many of them were forced by the prompt rather than sampled. */
  readonly promptTokens: number
  /** Wall time of the token loop (model loading and quantization excluded). */
  readonly elapsedMs: number
  /** tokens / elapsed seconds. */
  readonly tokensPerSecond: number
  /** True when Stop ended the run early. */
  readonly aborted: boolean
}

/** Generation `id` ended; all its chunks came before this message. */
export interface DoneMessage extends GenerateResult {
  readonly type: 'done'
  readonly id: number
}

/** Request `id` failed; for a generation, the chunks sent before it stay valid. */
export interface ErrorMessage {
  readonly type: 'error'
  readonly id: number
  readonly error: SerializedError
}

/** Every message the worker sends to the UI thread. */
export type WorkerToMain = ModelLoadedMessage | ChunkMessage | DoneMessage | ErrorMessage
export { serializeError, WorkerRemoteError, type SerializedError }
