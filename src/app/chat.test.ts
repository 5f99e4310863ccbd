import { describe, expect, it } from 'vitest'
import { encodeChat, loadModelBytes, parseGguf } from '../core/model/index.ts'
import { ggufTokenizer } from '../core/model/gguf-tokenizer.ts'
import { smollm2VocabGguf } from '../test/smollm2-fixture.ts'
import { stories260K } from '../test/fixtures.ts'
import { promptTokens } from './answer-loop.ts'
import { modelChatTemplate } from './chat.ts'

describe("a model's chat template as the roles use it", () => {
  it('renders the conversation so that encoding the text gives exactly encodeChat\'s ids (SmolLM2-shaped GGUF)', () => {
    const tokenizer = ggufTokenizer(parseGguf(smollm2VocabGguf()), 49152) // the vocabulary alone (the fixture's weights take 20 s to write)
    const template = modelChatTemplate(tokenizer)
    expect(template).toBeDefined()
    for (const messages of [
      [{ role: 'user', content: 'Hi there! 🙂' }],
      [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: '4' }, { role: 'user', content: 'And 3+3?' }]
    ]) {
      const text = (template as NonNullable<typeof template>)(messages)
      expect(text).toContain('<|im_start|>assistant\n')
      expect(promptTokens(tokenizer, text, true)).toEqual(encodeChat(tokenizer, messages))
      // a user's own text is not parsed into control tokens
      expect(promptTokens(tokenizer, text)).not.toEqual(encodeChat(tokenizer, messages))
    }
  })

  it('is absent for a llama2.c model (the gateway then uses its plain fallback)', () => {
    const f = stories260K()
    expect(modelChatTemplate(loadModelBytes(f.model, f.tokenizer).tokenizer)).toBeUndefined()
  })
})
