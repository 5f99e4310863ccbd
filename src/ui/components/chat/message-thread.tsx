import type { AnswerMessage, ChatMessage } from '../../history/types.ts'
import { ErrorMessage } from '../error-message.tsx'
import { ReceiptView } from './receipt-view.tsx'

/** Props of {@link MessageThread}: one conversation's messages and what may be done with its last answer. */
export interface MessageThreadProps {
  /** Oldest first; each answer is shown as the continuation of the prompt before it. */
  readonly messages: readonly ChatMessage[]
  /** The answer being generated, if any. */
  readonly streamingId: string | null
  /** Offered under the last answer when given and nothing streams. */
  readonly onRegenerate?: () => void
  /** False while no answer can be made (e.g. no miners yet). */
  readonly canRegenerate?: boolean
}

function statusText (m: AnswerMessage): string {
  switch (m.status) {
    case 'streaming': return m.text === '' ? (m.mode === 'local' ? 'Generating on this device…' : 'Encrypting and sending the first layer…') : 'Writing…'
    case 'stopped': return 'Stopped.'
    case 'error': return 'This answer failed.'
    case 'done': return ''
  }
}

function settingsText (m: AnswerMessage): string {
  const s = m.settings
  return `${m.model ?? 'model'} · temperature ${s.temperature}${s.temperature > 0 ? ` · top-p ${s.topp}` : ''} · up to ${s.maxTokens} new tokens`
}

function Answer ({ m, prompt, last, onRegenerate, canRegenerate }: { m: AnswerMessage, prompt: string, last: boolean, onRegenerate?: () => void, canRegenerate: boolean }) {
  const status = statusText(m)
  return (
    <article className='message message-answer' aria-label='Answer' aria-busy={m.status === 'streaming'}>
      <p className='message-text'>
        {/* The model continues the prompt: the answer reads as one text, the prompt's part muted (and not read twice by screen readers). */}
        <span className='echo' aria-hidden='true'>{prompt}</span>
        <span className='continuation'>{m.text === '' && m.status !== 'streaming' ? ' …(no text)' : m.text}</span>
        {m.status === 'streaming' && <span className='caret' aria-hidden='true' />}
      </p>
      {status !== '' && <p className='message-status'>{status}</p>}
      {m.error !== undefined && <ErrorMessage title='The answer failed' error={m.error} />}
      {m.receipt !== undefined && <ReceiptView receipt={m.receipt} />}
      <p className='message-meta'>
        {settingsText(m)}
        {last && m.status !== 'streaming' && onRegenerate !== undefined && (
          <button type='button' className='link-button' onClick={onRegenerate} disabled={!canRegenerate}>Regenerate</button>
        )}
      </p>
    </article>
  )
}

/** A conversation: each prompt, then its private answer with the answer's receipt. */
export function MessageThread ({ messages, streamingId, onRegenerate, canRegenerate = true }: MessageThreadProps) {
  const lastAnswer = messages.findLast(m => m.role === 'answer')
  // each answer continues the prompt before it
  const prompts = messages.map((_, i) => (messages.slice(0, i + 1).findLast(x => x.role === 'user')?.text ?? ''))
  return (
    <div className='thread' role='log' aria-label='Conversation' aria-live='polite' aria-busy={streamingId !== null}>
      {messages.map((m, i) => {
        if (m.role === 'user') {
          return <article key={m.id} className='message message-user' aria-label='Your prompt'><p className='message-text'>{m.text}</p></article>
        }
        return <Answer key={m.id} m={m} prompt={prompts[i]} last={m === lastAnswer} onRegenerate={streamingId === null ? onRegenerate : undefined} canRegenerate={canRegenerate} />
      })}
    </div>
  )
}
