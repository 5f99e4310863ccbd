import { describe, expect, it } from 'vitest'
import { plainChatPrompt } from './chat-prompt.ts'
import { InvalidRequestError } from './errors.ts'
import { parseChatRequest, parseCompletionRequest } from './validate.ts'

const chat = (extra: Record<string, unknown>): unknown => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra })

function param (f: () => unknown): string | null | undefined {
  try {
    f()
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidRequestError)
    return (err as InvalidRequestError).param
  }
  throw new Error('accepted')
}

describe('request validation', () => {
  it('reads OpenAI\'s defaults and fields', () => {
    expect(parseChatRequest(chat({}))).toEqual({ model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 1, topP: 1, stop: [], stream: false, includeUsage: false })
    expect(parseChatRequest(chat({ max_completion_tokens: 7, temperature: 0, top_p: 0.5, seed: -3, stop: 'x', stream: true, stream_options: { include_usage: true }, n: 1, user: 'u' })))
      .toMatchObject({ maxTokens: 7, temperature: 0, topP: 0.5, seed: -3, stop: ['x'], stream: true, includeUsage: true })
    expect(parseCompletionRequest({ model: 'm', prompt: ['one'], max_tokens: 3 })).toMatchObject({ prompt: 'one', maxTokens: 3 })
    expect(parseChatRequest(chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }, { role: 'assistant', content: null }] })).messages)
      .toEqual([{ role: 'user', content: 'ab' }, { role: 'assistant', content: '' }])
  })

  it('names the field at fault', () => {
    expect(param(() => parseChatRequest(null))).toBe(null)
    expect(param(() => parseChatRequest({ messages: [] }))).toBe('model')
    expect(param(() => parseChatRequest(chat({ messages: 'hi' })))).toBe('messages')
    expect(param(() => parseChatRequest(chat({ messages: [{ role: 'robot', content: 'x' }] })))).toBe('messages[0].role')
    expect(param(() => parseChatRequest(chat({ messages: [{ role: 'user', content: [{ type: 'image_url' }] }] })))).toBe('messages[0].content[0]')
    expect(param(() => parseChatRequest(chat({ temperature: '0' })))).toBe('temperature')
    expect(param(() => parseChatRequest(chat({ temperature: 2.5 })))).toBe('temperature')
    expect(param(() => parseChatRequest(chat({ top_p: -0.1 })))).toBe('top_p')
    expect(param(() => parseChatRequest(chat({ max_tokens: 0 })))).toBe('max_tokens')
    expect(param(() => parseChatRequest(chat({ max_tokens: 1.5 })))).toBe('max_tokens')
    expect(param(() => parseChatRequest(chat({ seed: 0.5 })))).toBe('seed')
    expect(param(() => parseChatRequest(chat({ n: 3 })))).toBe('n')
    expect(param(() => parseChatRequest(chat({ stop: ['a', ''] })))).toBe('stop')
    expect(param(() => parseChatRequest(chat({ stop: 'x'.repeat(300) })))).toBe('stop')
    expect(param(() => parseChatRequest(chat({ stream: 'yes' })))).toBe('stream')
    expect(param(() => parseChatRequest(chat({ logprobs: true })))).toBe('logprobs')
    expect(param(() => parseChatRequest(chat({ tools: [{ type: 'function' }] })))).toBe('tools')
    expect(param(() => parseChatRequest(chat({ response_format: { type: 'json_object' } })))).toBe('response_format')
    expect(param(() => parseChatRequest(chat({ presence_penalty: 1 })))).toBe('presence_penalty')
    expect(param(() => parseCompletionRequest({ model: 'm', prompt: [1, 2] }))).toBe('prompt')
    expect(param(() => parseCompletionRequest({ model: 'm', prompt: 'x', echo: true }))).toBe('echo')
  })

  it('the plain chat fallback is the contents, one per line', () => {
    expect(plainChatPrompt([{ role: 'system', content: 'Tell a story.' }, { role: 'user', content: 'Once upon a time' }])).toBe('Tell a story.\nOnce upon a time')
  })
})
