/**
 * A model's chat template as the user's roles use it (the gateway's /v1/chat/completions,
 * the page): the conversation rendered by the template its tokenizer brings (GGUF
 * `tokenizer.chat_template`, with @huggingface/jinja in core/model/chat-template.ts), as
 * the text the model continues. The engine's encoding adds BOS itself, so a BOS the
 * template writes at the start is left out of the text; the text is then encoded with its
 * special tokens parsed (`promptTokens(…, true)`), which gives exactly `encodeChat`'s ids.
 */
import { renderChat, type ChatMessage, type Tokenizer } from '../core/model/index.ts'

/** Renders a conversation as the model's prompt text. */
export type ChatTemplateFn = (messages: readonly ChatMessage[]) => string

/** The model's chat template, or undefined when its tokenizer has none (llama2.c story models). */
export function modelChatTemplate (tokenizer: Tokenizer): ChatTemplateFn | undefined {
  if (tokenizer.chatTemplate === undefined) return undefined
  const bosText = tokenizer.tokenText(tokenizer.bosId)
  return (messages) => {
    const text = renderChat(tokenizer, messages)
    return tokenizer.addBos && bosText !== '' && text.startsWith(bosText) ? text.slice(bosText.length) : text
  }
}
