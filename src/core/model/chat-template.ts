/**
 * Chat templates: a list of `{ role, content }` messages → the prompt text the model was
 * trained on, by rendering the model's Jinja template (GGUF `tokenizer.chat_template`)
 * with @huggingface/jinja, the implementation made for Hugging Face chat templates. The
 * template gets what transformers' `apply_chat_template` gives it: `messages`,
 * `add_generation_prompt`, `bos_token`, `eos_token`.
 *
 * Models without a template (llama2.c checkpoints: story models, not chat models) use
 * {@link PLAIN_CHAT_TEMPLATE}: the messages' contents, one per line, with no role labels,
 * so a chat request to a story model continues the user's text — one user message renders
 * to exactly its content, and generates what `cerberus generate` does for that prompt.
 */
import { Template } from '@huggingface/jinja'
import { ChatTemplateError } from './errors.ts'
import type { Tokenizer } from './tokenizer.ts'

/** One chat message. */
export interface ChatMessage {
  /** "system", "user", "assistant" (templates may accept others, e.g. "tool"). */
  readonly role: string
  readonly content: string
}

/** Options of {@link renderChat}. */
export interface RenderChatOptions {
  /** End with the opening of the assistant's turn (default true: the model answers next). */
  readonly addGenerationPrompt?: boolean
  /** A template to use instead of the model's own. */
  readonly template?: string
}

/** The documented fallback for models without a template: contents, one per line. */
export const PLAIN_CHAT_TEMPLATE = "{% for message in messages %}{% if not loop.first %}{{ '\\n' }}{% endif %}{{ message['content'] }}{% endfor %}"

/** Parsed templates, by source (a model's template is parsed once). */
const parsed = new Map<string, Template>()
/** Bound on the parse cache: a process sees a handful of models. */
const MAX_CACHED_TEMPLATES = 16

function template (source: string): Template {
  let t = parsed.get(source)
  if (t === undefined) {
    try {
      t = new Template(source)
    } catch (err) {
      throw new ChatTemplateError(`the model's chat template does not parse: ${(err as Error).message}`, err)
    }
    if (parsed.size >= MAX_CACHED_TEMPLATES) parsed.clear()
    parsed.set(source, t)
  }
  return t
}

function checkMessages (messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages) || messages.length === 0) throw new ChatTemplateError('a chat needs at least one message')
  messages.forEach((m, i) => {
    if (typeof m?.role !== 'string' || m.role === '' || typeof m.content !== 'string') throw new ChatTemplateError(`message ${i} must be { role: string, content: string }`)
  })
}

/**
 * Render `messages` with the tokenizer's chat template (or {@link PLAIN_CHAT_TEMPLATE}).
 * @throws {ChatTemplateError} when the template fails to parse or to render (templates
 *   raise errors themselves, e.g. "Conversation roles must alternate"), or a message is malformed.
 */
export function renderChat (tokenizer: Tokenizer, messages: readonly ChatMessage[], opts: RenderChatOptions = {}): string {
  checkMessages(messages)
  const t = template(opts.template ?? tokenizer.chatTemplate ?? PLAIN_CHAT_TEMPLATE)
  try {
    return t.render({
      messages: messages.map(m => ({ role: m.role, content: m.content })),
      add_generation_prompt: opts.addGenerationPrompt ?? true,
      bos_token: tokenizer.tokenText(tokenizer.bosId),
      eos_token: tokenizer.tokenText(tokenizer.eosId)
    })
  } catch (err) {
    throw new ChatTemplateError(`the model's chat template failed to render: ${(err as Error).message}`, err)
  }
}

/**
 * The prompt tokens of a chat: the rendered template encoded with its special tokens
 * ("<|im_start|>" → its id), starting with BOS when the tokenizer adds one and the
 * template has not already written it.
 * @throws {ChatTemplateError} as {@link renderChat}; {@link TokenizerError} when the text cannot be encoded.
 */
export function encodeChat (tokenizer: Tokenizer, messages: readonly ChatMessage[], opts: RenderChatOptions = {}): number[] {
  const text = renderChat(tokenizer, messages, opts)
  const bosText = tokenizer.tokenText(tokenizer.bosId)
  const bos = tokenizer.addBos && !(tokenizer.kind !== 'llama2c' && text.startsWith(bosText))
  return tokenizer.encode(text, { bos, special: true })
}
