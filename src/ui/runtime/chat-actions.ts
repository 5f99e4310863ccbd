/**
 * What the chat's buttons do, as plain functions outside React: send a prompt, stream the
 * answer (private, or on this device in local mode) into the chat store, stop it,
 * regenerate it, and keep every conversation in the history. Each prompt is answered on its own — the model continues text; it does
 * not read earlier turns.
 */
import type { CerberusClient, GenerateSettings } from '../../app/types.ts'
import { isAbort, toErrorView } from '../errors.ts'
import type { AnswerMessage, ChatMessage, Conversation, HistoryStore, UserMessage } from '../history/types.ts'
import { activeConversation, chatStore, patchAnswer, putConversation, removeConversation, setActive, setHistory, setMessages, setStorageError, setStreaming } from '../state/chat-store.ts'
import { settingsStore } from '../state/settings-store.ts'
import { recordAnswerSpeed } from '../state/speed-store.ts'

/**
 * The chat's buttons, from {@link createChatActions}. At most one answer is made at a time
 * (send and regenerate are ignored meanwhile). None rejects: a failed answer is kept with
 * status 'error', and a history that cannot be read or written sets the chat slice's
 * `storageError` (what was not saved stays in memory until the tab is reloaded).
 */
export interface ChatActions {
  /** Read the history into the chat store. Never rejects. */
  load: () => Promise<void>
  /** Answer `text` in the open conversation (a new one when none is open). Ignored while an answer streams or the client is not ready. */
  send: (text: string) => Promise<void>
  /** Stop the streaming answer; its text so far stays. */
  stop: () => void
  /** Answer the last prompt of the open conversation again, replacing its last answer. */
  regenerate: () => Promise<void>
  /** Open a blank conversation (stored once it has a message). */
  newConversation: () => void
  select: (id: string) => void
  /** Delete conversation `id` here and from the history, first stopping its answer if one streams. */
  remove: (id: string) => Promise<void>
}

/** What the chat actions need; `newId` and `now` are injectable so tests get stable ids and times. */
export interface ChatActionsDeps {
  /** The client in use now (it changes when the relay does). */
  readonly getClient: () => CerberusClient | undefined
  /** Read by `load`; a conversation is saved when messages are added and when its answer ends (not per streamed piece). */
  readonly history: HistoryStore
  /** Ids of conversations and messages; default `crypto.randomUUID()`. */
  readonly newId?: () => string
  /** ms since epoch, for message, conversation and speed-sample times; default `Date.now`. */
  readonly now?: () => number
}

/** The sampling settings of a new answer, from the settings slice. */
export function currentGenerateSettings (): GenerateSettings {
  const s = settingsStore.getState()
  return { temperature: s.temperature, topp: s.topp, maxTokens: s.maxTokens }
}

/**
 * Make the chat actions over the chat slice and `deps.history`. An answer is generated
 * with the settings of the moment it was asked for (kept in the message), streams into the
 * chat slice, and, when the client resolves, adds its speed to the speed slice.
 */
export function createChatActions (deps: ChatActionsDeps): ChatActions {
  const newId = deps.newId ?? (() => crypto.randomUUID())
  const now = deps.now ?? Date.now
  let running: { controller: AbortController, conversationId: string } | null = null

  const save = async (c: Conversation | undefined): Promise<void> => {
    if (c === undefined) return
    try {
      await deps.history.put(c)
      if (chatStore.getState().storageError !== null) setStorageError(null)
    } catch (err) {
      setStorageError(`This conversation could not be saved in this browser (${toErrorView(err).message}); it stays here until you reload.`)
    }
  }

  /** Generate into answer `answer` of conversation `conversationId`. */
  const answer = async (client: CerberusClient, conversationId: string, prompt: string, answerMsg: AnswerMessage): Promise<void> => {
    const controller = new AbortController()
    running = { controller, conversationId }
    setStreaming(answerMsg.id)
    let text = ''
    try {
      const receipt = await client.generate(prompt, answerMsg.settings, {
        ...(answerMsg.mode === 'local' ? { mode: 'local' as const } : {}),
        signal: controller.signal,
        onText: (piece) => {
          text += piece
          patchAnswer(conversationId, answerMsg.id, { text })
        }
      })
      patchAnswer(conversationId, answerMsg.id, { text, receipt, status: controller.signal.aborted ? 'stopped' : 'done' })
      recordAnswerSpeed(receipt, now())
    } catch (err) {
      const stopped = controller.signal.aborted || isAbort(err)
      patchAnswer(conversationId, answerMsg.id, stopped ? { text, status: 'stopped' } : { text, status: 'error', error: toErrorView(err) })
    } finally {
      running = null
      setStreaming(null)
      await save(chatStore.getState().conversations.find(c => c.id === conversationId))
    }
  }

  /**
   * The client, when it can answer now: private answers need it ready (miners found), or
   * switching models with the model in use still served; local ones only a loaded model.
   */
  const readyClient = (): CerberusClient | undefined => {
    if (running !== null) return undefined
    const client = deps.getClient()
    const s = client?.getState()
    if (settingsStore.getState().localMode) return s?.model !== undefined ? client : undefined
    return s?.status === 'ready' || (s?.switching === true && s.minersReady > 0) ? client : undefined
  }

  const newAnswer = (): AnswerMessage => ({
    id: newId(),
    role: 'answer',
    text: '',
    at: now(),
    status: 'streaming',
    settings: currentGenerateSettings(),
    ...(settingsStore.getState().localMode ? { mode: 'local' as const } : {}),
    model: deps.getClient()?.getState().model?.name
  })

  return {
    async load () {
      try {
        setHistory(await deps.history.list(), deps.history.persistent)
      } catch (err) {
        setHistory([], deps.history.persistent)
        setStorageError(`Your saved conversations could not be read (${toErrorView(err).message}).`)
      }
    },

    async send (text) {
      const prompt = text.trim()
      const client = readyClient()
      if (prompt === '' || client === undefined) return
      let conv = activeConversation()
      if (conv === undefined) {
        const at = now()
        conv = { id: newId(), title: '', createdAt: at, updatedAt: at, messages: [] }
        putConversation(conv)
        setActive(conv.id)
      }
      const user: UserMessage = { id: newId(), role: 'user', text: prompt, at: now() }
      const reply = newAnswer()
      const saved = setMessages(conv.id, [...conv.messages, user, reply], now())
      await save(saved)
      await answer(client, conv.id, prompt, reply)
    },

    stop () {
      running?.controller.abort()
    },

    async regenerate () {
      const client = readyClient()
      const conv = activeConversation()
      if (client === undefined || conv === undefined) return
      const lastUser = conv.messages.findLastIndex(m => m.role === 'user')
      if (lastUser < 0) return
      const prompt = (conv.messages[lastUser] as UserMessage).text
      const reply = newAnswer()
      // Everything after the last prompt (its previous answer) is replaced.
      const messages: ChatMessage[] = [...conv.messages.slice(0, lastUser + 1), reply]
      await save(setMessages(conv.id, messages, now()))
      await answer(client, conv.id, prompt, reply)
    },

    newConversation () {
      setActive(null)
    },

    select (id) {
      setActive(id)
    },

    async remove (id) {
      if (running?.conversationId === id) running.controller.abort()
      removeConversation(id)
      try {
        await deps.history.delete(id)
      } catch (err) {
        setStorageError(`The conversation could not be deleted from this browser's storage (${toErrorView(err).message}); it may come back after a reload.`)
      }
    }
  }
}
