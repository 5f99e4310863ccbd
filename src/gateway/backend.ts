/**
 * What the gateway generates with, injected by whoever starts it (`cerberus serve`): the
 * model it serves, and for each answer the path it takes — `private` (the user's pipeline,
 * `createPrivateGeneration`: encrypted, computed by miners, verified) or `local` (the same
 * plan's plaintext twin on this machine, `createLocalGeneration`). The gateway itself
 * knows nothing of HE, miners or the mesh.
 */
import type { AnswerReceipt, GenerationCallbacks, GenerationSettings } from '../app/index.ts'
import type { ChatTemplate } from './chat-prompt.ts'

/** The model the gateway serves. */
export interface GatewayModel {
  /** Its name in `model` fields and `GET /v1/models`. */
  readonly id: string
  /** Unix seconds, for the model list (when it was loaded). */
  readonly created: number
  /** Positions the model can read and write (prompt and answer together). */
  readonly contextLength: number
  /** Tokens the model reads for `prompt`, BOS included (`special`: a rendered chat template). */
  countTokens: (prompt: string, special?: boolean) => number
  /** Its chat template, when its tokenizer has one (see chat-prompt.ts). */
  readonly chatTemplate?: ChatTemplate
}

/** One way to make an answer. */
export interface AnswerPath {
  readonly mode: 'private' | 'local'
  generate: (prompt: string, settings: GenerationSettings, callbacks: GenerationCallbacks) => Promise<AnswerReceipt>
}

/** The model and how to answer now. */
export interface GatewayBackend {
  readonly model: GatewayModel
  /**
   * The path of the next answer, asked for each request (miners come and go).
   * @throws {NoMinersError} when no miner serves the model and local mode was not asked for (503).
   */
  path: () => AnswerPath
}
