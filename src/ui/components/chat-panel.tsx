import { useState } from 'react'
import type { ClientState } from '../../app/types.ts'
import type { ChatActions } from '../runtime/chat-actions.ts'
import { activeConversation } from '../state/chat-store.ts'
import { useChat, useClient, useModelLoad, useSettings } from '../state/hooks.ts'
import { updateSettings } from '../state/settings-store.ts'
import { Composer } from './chat/composer.tsx'
import { EmptyState } from './chat/empty-state.tsx'
import { MessageThread } from './chat/message-thread.tsx'
import { StartProgress } from './chat/start-progress.tsx'
import { ErrorMessage } from './error-message.tsx'

/** Props of {@link ChatPanel}: the chat actions, and what "Try again" does after a failed start. */
export interface ChatPanelProps {
  readonly chat: ChatActions
  /** Shown as "Try again" under a start error; the page starts the client again (or looks for the relay again). */
  readonly onRetry: () => void
}

/**
 * Why a prompt cannot be sent now, in words the user can act on; null when it can. In local
 * mode only the model is needed (no keys, relay or miners). While another model loads, the
 * model in use answers (the new one is planned in a worker of its own; the switch waits for
 * an answer under way).
 */
export function blockedReason (status: ClientState['status'], minersReady: number, progressLabel: string | undefined, switching: boolean, local = false, modelLoaded = false): string | null {
  if (switching) return modelLoaded && (local || minersReady > 0) ? null : 'Switching models…'
  if (local) return modelLoaded ? null : `Loading the model: ${progressLabel ?? 'starting'}…`
  switch (status) {
    case 'idle': return 'Not connected yet.'
    case 'starting': return `Getting ready: ${progressLabel ?? 'starting'}…`
    case 'error': return 'Cannot answer until the problem above is fixed.'
    case 'ready': return minersReady > 0 ? null : 'No miner is online right now. Turn on "Donate" in another tab, or run "npx cerberus miner --relay …" — answers start as soon as one joins. Or choose "Generate on this device".'
  }
}

/** The chat: first-run progress, the open conversation, and the prompt box. */
export function ChatPanel ({ chat, onRetry }: ChatPanelProps) {
  const conversation = useChat(s => activeConversation(s))
  const streamingId = useChat(s => s.streamingId)
  const loaded = useChat(s => s.loaded)
  const storageError = useChat(s => s.storageError)
  const persistent = useChat(s => s.persistent)
  const status = useClient(s => s.status)
  const progress = useClient(s => s.progress)
  const error = useClient(s => s.error)
  const minersReady = useClient(s => s.minersReady)
  const model = useClient(s => s.model?.name)
  const switching = useModelLoad(s => s.busy)
  const local = useSettings(s => s.localMode)
  const [draft, setDraft] = useState('')

  const blocked = blockedReason(status, minersReady, progress?.label, switching, local, model !== undefined)
  const messages = conversation?.messages ?? []
  const firstRun = status === 'starting' && !switching

  return (
    <section className='panel chat-panel' aria-labelledby='chat-heading'>
      <div className='chat-head'>
        <h2 id='chat-heading'>{conversation?.title ?? 'New conversation'}</h2>
      </div>
      {firstRun && <StartProgress progress={progress} />}
      {status === 'error' && error !== undefined && (
        <div className='start-error'>
          <ErrorMessage title='Cerberus could not start' error={error} />
          <button type='button' onClick={onRetry}>Try again</button>
        </div>
      )}
      {!loaded
        ? <p className='hint'>Reading your saved conversations…</p>
        : messages.length === 0
          ? <EmptyState model={model} onPick={setDraft} />
          : <MessageThread messages={messages} streamingId={streamingId} onRegenerate={() => { void chat.regenerate() }} canRegenerate={blocked === null} />}
      <Composer busy={streamingId !== null} blockedReason={streamingId === null ? blocked : null} onSend={(t) => { void chat.send(t) }} onStop={chat.stop} draft={draft} onDraftChange={setDraft} local={local} onLocalChange={(on) => { updateSettings({ localMode: on }) }} />
      {storageError !== null && <p role='alert' className='alert'>{storageError}</p>}
      {!persistent && storageError === null && <p className='hint'>This browser does not let the page keep data, so conversations last until you close or reload the tab.</p>}
    </section>
  )
}
