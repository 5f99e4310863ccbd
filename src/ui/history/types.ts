/**
 * Conversations as they are kept: several per browser, each a list of messages. The
 * model continues text (stories260K is not an instruction model), so a "conversation" is
 * a notebook of prompts and their continuations; each prompt is answered on its own.
 */
import type { AnswerReceipt, GenerateSettings, GenerationMode } from '../../app/types.ts'

/** How an answer ended. */
export type AnswerStatus = 'streaming' | 'done' | 'stopped' | 'error'

/** One prompt typed by the user. */
export interface UserMessage {
  readonly id: string
  readonly role: 'user'
  readonly text: string
  readonly at: number
}

/** One private answer: the streamed text, and what it cost (the receipt). */
export interface AnswerMessage {
  readonly id: string
  readonly role: 'answer'
  readonly text: string
  readonly at: number
  readonly status: AnswerStatus
  /** The settings it was generated with. */
  readonly settings: GenerateSettings
  /** Where it was computed (absent: private, as every answer before local mode existed). */
  readonly mode?: GenerationMode
  /** Name of the model that wrote it. */
  readonly model?: string
  readonly receipt?: AnswerReceipt
  readonly error?: { readonly code: string, readonly message: string }
}

/** One entry of a conversation, told apart by `role`: a prompt, or the answer that continues it. */
export type ChatMessage = UserMessage | AnswerMessage

/** A conversation as stored. */
export interface Conversation {
  readonly id: string
  readonly title: string
  readonly createdAt: number
  readonly updatedAt: number
  readonly messages: readonly ChatMessage[]
}

/** Where conversations live: IndexedDB in browsers ({@link openHistoryDb}), memory otherwise. */
export interface HistoryStore {
  /** Every conversation, most recently updated first. */
  list: () => Promise<Conversation[]>
  put: (c: Conversation) => Promise<void>
  delete: (id: string) => Promise<void>
  /** False when nothing survives a reload (the memory fallback). */
  readonly persistent: boolean
}
