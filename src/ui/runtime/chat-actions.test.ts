import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory } from '../history/history-db.ts'
import type { AnswerMessage, HistoryStore } from '../history/types.ts'
import { activeConversation, chatStore, resetChatStore } from '../state/chat-store.ts'
import { resetSettingsStore, updateSettings } from '../state/settings-store.ts'
import { resetSpeedStore, speedStore } from '../state/speed-store.ts'
import { receiptOf, scriptedClient, streams, untilAborted, type ScriptedClient } from '../test/scripted.ts'
import { createChatActions, type ChatActions } from './chat-actions.ts'

let client: ScriptedClient
let history: HistoryStore
let chat: ChatActions

function answers (): AnswerMessage[] {
  return (activeConversation()?.messages ?? []).filter((m): m is AnswerMessage => m.role === 'answer')
}

beforeEach(async () => {
  resetChatStore()
  resetSettingsStore()
  resetSpeedStore()
  client = scriptedClient()
  history = createMemoryHistory()
  // a clock that moves, so "most recent first" is well defined
  let t = 1_700_000_000_000
  chat = createChatActions({ getClient: () => client, history, now: () => (t += 1000) })
  await chat.load()
})

describe('chat actions', () => {
  it('send streams the answer, keeps the receipt and the settings, saves the conversation, records the speed', async () => {
    updateSettings({ temperature: 0, maxTokens: 3 })
    client.script = streams([', there', ' was', ' a'])
    await chat.send('  Once upon a time ')
    expect(client.calls).toEqual([{ prompt: 'Once upon a time', settings: { temperature: 0, topp: 0.9, maxTokens: 3 } }])
    const [a] = answers()
    expect(a).toMatchObject({ text: ', there was a', status: 'done', model: 'stories260K.bin', settings: { temperature: 0, maxTokens: 3 } })
    expect(a.receipt?.verified).toBe(60)
    expect(activeConversation()?.title).toBe('Once upon a time')
    const saved = await history.list()
    expect(saved).toHaveLength(1)
    expect(saved[0].messages.map(m => m.role)).toEqual(['user', 'answer'])
    expect((saved[0].messages[1] as AnswerMessage).text).toBe(', there was a')
    expect(speedStore.getState().samples.map(s => s.tokensPerSecond)).toEqual([10])
    expect(chatStore.getState().streamingId).toBeNull()
  })

  it('shows the streamed text while it streams', async () => {
    const seen: string[] = []
    client.script = async (emit) => {
      emit('One')
      seen.push(answers()[0].text)
      emit(' two')
      seen.push(answers()[0].text)
      expect(chatStore.getState().streamingId).toBe(answers()[0].id)
      return { tokens: 2, ms: 1, bytesUp: 0, bytesDown: 0, verified: 0, rejected: 0, miners: [] }
    }
    await chat.send('x')
    expect(seen).toEqual(['One', 'One two'])
  })

  it('stop ends the answer and keeps its text', async () => {
    client.script = untilAborted('Once')
    const sending = chat.send('p')
    await new Promise(resolve => setTimeout(resolve, 0))
    expect(answers()[0].status).toBe('streaming')
    chat.stop()
    await sending
    expect(answers()[0]).toMatchObject({ text: 'Once', status: 'stopped' })
    expect((await history.list())[0].messages).toHaveLength(2)
  })

  it('regenerate replaces the last answer with a new one for the same prompt', async () => {
    client.script = streams(['A'])
    await chat.send('first')
    client.script = streams(['B'])
    await chat.send('second')
    const before = answers()[1].id
    client.script = streams(['C'])
    await chat.regenerate()
    expect(client.calls.map(c => c.prompt)).toEqual(['first', 'second', 'second'])
    expect(answers().map(a => a.text)).toEqual(['A', 'C'])
    expect(answers()[1].id).not.toBe(before)
  })

  it('a failed answer shows the error code and message', async () => {
    client.script = async () => { throw Object.assign(new Error('no miner answered'), { code: 'NO_MINERS' }) }
    await chat.send('p')
    expect(answers()[0]).toMatchObject({ status: 'error', error: { code: 'NO_MINERS', message: 'no miner answered' } })
  })

  it('nothing is sent while the client is not ready, or for an empty prompt', async () => {
    await chat.send('   ')
    client.setState({ status: 'starting' })
    await chat.send('p')
    expect(client.calls).toEqual([])
    expect(chatStore.getState().conversations).toEqual([])
    // a model switch: the model in use answers, while it has a miner
    client.setState({ status: 'starting', switching: true, minersReady: 0 })
    await chat.send('p')
    expect(client.calls).toEqual([])
    client.setState({ status: 'starting', switching: true, minersReady: 1 })
    await chat.send('p')
    expect(client.calls.map(c => c.prompt)).toEqual(['p']) // private: no local mode
  })

  it('several conversations: new, select, delete; load restores them, the latest open', async () => {
    await chat.send('one')
    const first = chatStore.getState().activeId
    chat.newConversation()
    expect(activeConversation()).toBeUndefined()
    await chat.send('two')
    expect(chatStore.getState().conversations.map(c => c.title)).toEqual(['two', 'one'])
    chat.select(first as string)
    expect(activeConversation()?.title).toBe('one')

    resetChatStore()
    await createChatActions({ getClient: () => client, history }).load()
    expect(chatStore.getState().conversations.map(c => c.title)).toEqual(['two', 'one'])
    expect(activeConversation()?.title).toBe('two')

    await chat.remove(chatStore.getState().activeId as string)
    expect((await history.list()).map(c => c.title)).toEqual(['one'])
    expect(activeConversation()?.title).toBe('one')
  })

  it('a history that cannot save says so, and the chat goes on', async () => {
    const broken: HistoryStore = { ...history, put: async () => { throw new Error('QuotaExceededError') } }
    chat = createChatActions({ getClient: () => client, history: broken })
    await chat.send('p')
    expect(answers()[0].status).toBe('done')
    expect(chatStore.getState().storageError).toMatch(/could not be saved.*QuotaExceededError/)
  })

  it('local mode ("Generate on this device"): answers with only a model loaded — no miners needed — and says where it ran', async () => {
    client.setState({ status: 'starting', minersReady: 0 })
    await chat.send('not yet') // private: the client is not ready
    expect(client.calls).toEqual([])
    updateSettings({ localMode: true })
    client.script = async (emit) => { emit(' local'); return receiptOf(1, { local: true, bytesUp: 0, bytesDown: 0, verified: 0, miners: [] }) }
    await chat.send('here')
    expect(client.calls.map(c => c.mode)).toEqual(['local'])
    expect(answers().at(-1)).toMatchObject({ text: ' local', status: 'done', mode: 'local', receipt: { local: true } })
    client.setState({ model: undefined })
    await chat.send('no model')
    expect(client.calls).toHaveLength(1)
  })
})
