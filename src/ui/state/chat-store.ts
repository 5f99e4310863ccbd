/**
 * The chat slice: every conversation (as kept in the history), which one is open, and
 * whether an answer is streaming. Plain update functions; the chat actions
 * (src/ui/runtime/chat-actions.ts) call them and save to the history.
 */
import { createStore } from 'zustand/vanilla'
import type { AnswerMessage, ChatMessage, Conversation } from '../history/types.ts'

/** The chat slice's state; components read it one field at a time through `useChat`. */
export interface ChatState {
  /** False until the history has been read. */
  readonly loaded: boolean
  /** False when history lives in memory only (IndexedDB unavailable). */
  readonly persistent: boolean
  /** Most recently updated first. */
  readonly conversations: readonly Conversation[]
  /** The open conversation; null = a blank one, created by the first send. */
  readonly activeId: string | null
  /** Id of the answer being generated, if any. */
  readonly streamingId: string | null
  /** Why the history could not be read or saved, for the user. */
  readonly storageError: string | null
}

const initialState: ChatState = { loaded: false, persistent: true, conversations: [], activeId: null, streamingId: null, storageError: null }

/** The chat slice. Written only through the functions of this file (the chat actions call them, and save to the history). */
export const chatStore = createStore<ChatState>()(() => initialState)

/** Longest title shown in the conversation list. */
export const TITLE_CHARS = 48

/** A conversation's title: its first prompt, on one line, shortened. */
export function titleFor (messages: readonly ChatMessage[]): string {
  const first = messages.find(m => m.role === 'user')?.text.replace(/\s+/g, ' ').trim() ?? ''
  if (first === '') return 'New conversation'
  return first.length > TITLE_CHARS ? `${first.slice(0, TITLE_CHARS - 1)}…` : first
}

function sortByUpdate (list: readonly Conversation[]): Conversation[] {
  return [...list].sort((a, b) => b.updatedAt - a.updatedAt)
}

/** The open conversation, if any. */
export function activeConversation (s: ChatState = chatStore.getState()): Conversation | undefined {
  return s.conversations.find(c => c.id === s.activeId)
}

/** The history has been read. The most recent conversation is opened. */
export function setHistory (conversations: readonly Conversation[], persistent: boolean): void {
  const sorted = sortByUpdate(conversations)
  chatStore.setState({ loaded: true, persistent, conversations: sorted, activeId: sorted[0]?.id ?? null })
}

/** Open conversation `id`; null opens a blank one. The id is not checked: an unknown one shows as a blank conversation. */
export function setActive (id: string | null): void {
  chatStore.setState({ activeId: id })
}

/** Add or replace a conversation (and keep the list ordered). */
export function putConversation (c: Conversation): void {
  chatStore.setState(s => ({ conversations: sortByUpdate([c, ...s.conversations.filter(x => x.id !== c.id)]) }))
}

/** Drop conversation `id` from the slice (the chat actions delete it from the history). If it was open, the most recent one left opens, or a blank one. */
export function removeConversation (id: string): void {
  chatStore.setState(s => {
    const conversations = s.conversations.filter(c => c.id !== id)
    return { conversations, activeId: s.activeId === id ? (conversations[0]?.id ?? null) : s.activeId }
  })
}

/** Replace conversation `id`'s messages (title and update time follow). Returns the new record. */
export function setMessages (id: string, messages: readonly ChatMessage[], at = Date.now()): Conversation | undefined {
  const c = chatStore.getState().conversations.find(x => x.id === id)
  if (c === undefined) return undefined
  const next: Conversation = { ...c, messages, title: titleFor(messages), updatedAt: at }
  putConversation(next)
  return next
}

/** Change answer `answerId` of conversation `id` (streamed text, status, receipt). */
export function patchAnswer (id: string, answerId: string, patch: Partial<Omit<AnswerMessage, 'id' | 'role'>>): Conversation | undefined {
  const c = chatStore.getState().conversations.find(x => x.id === id)
  if (c === undefined) return undefined
  const messages = c.messages.map(m => (m.id === answerId && m.role === 'answer' ? { ...m, ...patch } : m))
  // Streaming does not reorder the list; only new messages move a conversation up.
  const next: Conversation = { ...c, messages }
  chatStore.setState(s => ({ conversations: s.conversations.map(x => (x.id === id ? next : x)) }))
  return next
}

/** Mark answer `answerId` as being generated (null: none). While set, the composer offers Stop and the model cannot be switched. */
export function setStreaming (answerId: string | null): void {
  chatStore.setState({ streamingId: answerId })
}

/** Tell the user the history could not be read, saved or deleted (null clears it; so does the next successful save). */
export function setStorageError (message: string | null): void {
  chatStore.setState({ storageError: message })
}

/** Back to the initial state (tests). */
export function resetChatStore (): void {
  chatStore.setState(initialState, true)
}
