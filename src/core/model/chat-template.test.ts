import { describe, expect, it } from 'vitest'
import { smollm2VocabGguf } from '../../test/smollm2-fixture.ts'
import { mergeMetadata, storiesTokenizerMetadata } from '../../test/stories-gguf.ts'
import { gv, writeGguf } from '../../test/gguf-writer.ts'
import { encodeChat, PLAIN_CHAT_TEMPLATE, renderChat } from './chat-template.ts'
import { ChatTemplateError } from './errors.ts'
import { parseGguf } from './gguf.ts'
import { ggufTokenizer } from './gguf-tokenizer.ts'
import { stories260K } from '../../test/fixtures.ts'
import { parseTokenizer } from './tokenizer.ts'

const smol = ggufTokenizer(parseGguf(smollm2VocabGguf()), 49152)
const stories = parseTokenizer(stories260K().tokenizer, 512)
const withTemplate = (template: string): ReturnType<typeof ggufTokenizer> =>
  ggufTokenizer(parseGguf(writeGguf({ metadata: mergeMetadata(storiesTokenizerMetadata(), [['tokenizer.chat_template', gv.str(template)]]), tensors: [] })), 512)

describe('renderChat with SmolLM2\'s template', () => {
  it('adds the default system prompt and opens the assistant\'s turn (expected string written out by hand)', () => {
    expect(renderChat(smol, [{ role: 'user', content: 'Hi!' }])).toBe(
      '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' +
      '<|im_start|>user\nHi!<|im_end|>\n' +
      '<|im_start|>assistant\n')
  })

  it('keeps a given system prompt and earlier turns; no generation prompt when not asked', () => {
    const msgs = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello.' }]
    expect(renderChat(smol, msgs, { addGenerationPrompt: false })).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n')
  })

  it('encodes the rendered prompt with its special tokens and no extra BOS', () => {
    const ids = encodeChat(smol, [{ role: 'user', content: 'Hi!' }])
    expect(ids[0]).toBe(1) // <|im_start|>, written by the template
    expect(ids.filter(t => t === 1)).toHaveLength(3)
    expect(ids.filter(t => t === 2)).toHaveLength(2)
    expect(ids.at(-1)).toBe(smol.encode('\n').at(-1))
  })
})

describe('renderChat without a template (llama2.c models)', () => {
  it('uses the plain fallback: contents, one per line, no role labels', () => {
    expect(stories.chatTemplate).toBeUndefined()
    expect(renderChat(stories, [{ role: 'system', content: 'A story.' }, { role: 'user', content: 'Once upon a time' }])).toBe('A story.\nOnce upon a time')
    expect(renderChat(smol, [{ role: 'user', content: 'x' }, { role: 'user', content: 'y' }], { template: PLAIN_CHAT_TEMPLATE })).toBe('x\ny')
  })

  it('so one user message gives exactly the prompt tokens of `cerberus generate`', () => {
    expect(encodeChat(stories, [{ role: 'user', content: 'Once upon a time' }])).toEqual(stories.encode('Once upon a time'))
  })
})

describe('renderChat errors', () => {
  it('passes bos_token and eos_token as the template expects', () => {
    expect(renderChat(withTemplate('{{ bos_token }}{{ messages[0].content }}{{ eos_token }}'), [{ role: 'user', content: 'hi' }])).toBe('<s>hi</s>')
  })

  it('a template that does not parse is a ChatTemplateError', () => {
    const t = withTemplate('{% for m in messages %}{{ m.content }')
    expect(() => renderChat(t, [{ role: 'user', content: 'hi' }])).toThrow(ChatTemplateError)
    expect(() => renderChat(t, [{ role: 'user', content: 'hi' }])).toThrow(/chat template does not parse/)
  })

  it('a template that raises is a ChatTemplateError with its message', () => {
    const t = withTemplate("{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversation roles must alternate user/assistant') }}{% endif %}ok")
    expect(renderChat(t, [{ role: 'user', content: 'hi' }])).toBe('ok')
    expect(() => renderChat(t, [{ role: 'assistant', content: 'hi' }])).toThrow(/failed to render: .*Conversation roles must alternate/)
  })

  it('malformed messages are a ChatTemplateError', () => {
    expect(() => renderChat(smol, [])).toThrow(/at least one message/)
    expect(() => renderChat(smol, [{ role: 'user', content: 3 as unknown as string }])).toThrow(/message 0 must be/)
  })
})
