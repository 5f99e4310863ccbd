/**
 * From `messages` to the text the model continues — the seam where chat templates plug in.
 *
 * A model whose tokenizer brings a chat template (GGUF `tokenizer.chat_template`) gets its
 * messages rendered by that template: pass its renderer as `template` (the GGUF work's
 * `renderChat(tokenizer, messages)` over `@huggingface/jinja`, bound to the model's
 * tokenizer). Note for that renderer: the engine's `encode` already puts BOS first, so a
 * template's own BOS text must not be rendered a second time.
 *
 * Today's models (llama2.c story models: stories260K, stories15M, …) have no template and
 * no notion of turns: they continue text. Their fallback is plain and said so in
 * docs/09-gateway.md: the messages' contents, in order, joined by newlines — roles are
 * dropped, nothing is added. One user message is therefore exactly a text completion of
 * its content, and a chat answer equals `POST /v1/completions` with that prompt.
 */
import type { ChatMessage } from './validate.ts'

/** Renders a conversation as a model's prompt (a chat template bound to its tokenizer). */
export type ChatTemplate = (messages: readonly ChatMessage[]) => string

/** What joins the contents of consecutive messages in the plain fallback. */
export const PLAIN_SEPARATOR = '\n'

/** The fallback for models without a template: the contents, in order, one per line. */
export function plainChatPrompt (messages: readonly ChatMessage[]): string {
  return messages.map(m => m.content).join(PLAIN_SEPARATOR)
}

/** The prompt for `messages`: the model's template when it has one, else {@link plainChatPrompt}. */
export function chatPrompt (messages: readonly ChatMessage[], template?: ChatTemplate): string {
  return template === undefined ? plainChatPrompt(messages) : template(messages)
}
