import type { ChatActions } from '../runtime/chat-actions.ts'
import { useChat } from '../state/hooks.ts'

/** Props of {@link ConversationList}: the chat actions behind open, New and delete. */
export interface ConversationListProps {
  readonly chat: ChatActions
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

/** Saved conversations (this browser only): open, start a new one, delete. */
export function ConversationList ({ chat }: ConversationListProps) {
  const conversations = useChat(s => s.conversations)
  const activeId = useChat(s => s.activeId)

  return (
    <nav className='panel conversations' aria-labelledby='conversations-heading'>
      <div className='panel-head'>
        <h2 id='conversations-heading'>Conversations</h2>
        <button type='button' onClick={chat.newConversation}>New</button>
      </div>
      {conversations.length === 0
        ? <p className='hint'>None yet. They are kept in this browser only.</p>
        : (
          <ul className='conversation-list'>
            {conversations.map(c => (
              <li key={c.id} className={c.id === activeId ? 'current' : undefined}>
                <button type='button' className='conversation-open' aria-current={c.id === activeId ? 'true' : undefined} onClick={() => { chat.select(c.id) }}>
                  <span className='conversation-title'>{c.title}</span>
                  <span className='conversation-date'>{dateFormat.format(c.updatedAt)}</span>
                </button>
                <button type='button' className='icon-button' aria-label={`Delete "${c.title}"`} title='Delete' onClick={() => { void chat.remove(c.id) }}>×</button>
              </li>
            ))}
          </ul>
          )}
    </nav>
  )
}
