import { useState, type FormEvent, type KeyboardEvent } from 'react'
import { LOCAL_MODE_LABEL } from '../../../app/local-generation.ts'

/** What local mode means, next to its switch. */
const LOCAL_NOTE = LOCAL_MODE_LABEL

/** Props of {@link Composer}: the parent owns sending and stopping, and the text when it passes `draft`. */
export interface ComposerProps {
  /** An answer is streaming: Send becomes Stop. */
  readonly busy: boolean
  /** Why nothing can be sent now (shown under the box), or null when it can. */
  readonly blockedReason: string | null
  /** Called with the text as typed (not trimmed); the box is then cleared. Never called while `busy` or blocked. */
  readonly onSend: (text: string) => void
  readonly onStop: () => void
  /** Text to start with (a suggestion picked in the empty state). */
  readonly draft?: string
  /** Receives every edit (and the clearing after a send); without it the box keeps edits in its own state. */
  readonly onDraftChange?: (text: string) => void
  /** "Generate on this device" (local mode) is chosen; the switch shows when `onLocalChange` is given. */
  readonly local?: boolean
  readonly onLocalChange?: (on: boolean) => void
}

/**
 * The prompt box: Enter sends, Shift+Enter starts a new line, Stop interrupts the answer.
 * Controlled when `draft` is given (the empty state's suggestions fill it), otherwise it
 * keeps its own text.
 */
export function Composer ({ busy, blockedReason, onSend, onStop, draft, onDraftChange, local = false, onLocalChange }: ComposerProps) {
  const [own, setOwn] = useState('')
  const text = draft ?? own
  const setText = (t: string): void => { if (onDraftChange !== undefined) onDraftChange(t); else setOwn(t) }
  const canSend = !busy && blockedReason === null && text.trim() !== ''

  const send = (): void => {
    if (!canSend) return
    onSend(text)
    setText('')
  }
  const submit = (e: FormEvent): void => { e.preventDefault(); send() }
  const key = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault()
      send()
    }
  }

  return (
    <form className='composer' onSubmit={submit} aria-label='Write a prompt'>
      <label htmlFor='prompt' className='visually-hidden'>Prompt</label>
      <textarea
        id='prompt'
        rows={2}
        value={text}
        placeholder='Start a story…'
        onChange={(e) => { setText(e.target.value) }}
        onKeyDown={key}
        aria-describedby={blockedReason !== null ? 'composer-blocked' : 'composer-keys'}
      />
      {busy
        ? <button type='button' className='button-stop' onClick={onStop}>Stop</button>
        : <button type='submit' disabled={!canSend}>Send</button>}
      {onLocalChange !== undefined && (
        <label className='composer-local'>
          <input type='checkbox' checked={local} disabled={busy} onChange={(e) => { onLocalChange(e.target.checked) }} aria-describedby='composer-local-note' />
          {' '}Generate on this device
          <span id='composer-local-note' className='hint'>{local ? ` — ${LOCAL_NOTE}` : ' (plaintext, in this tab; for when no miner is online)'}</span>
        </label>
      )}
      {blockedReason !== null
        ? <p id='composer-blocked' className='hint composer-hint'>{blockedReason}</p>
        : <p id='composer-keys' className='hint composer-hint'>Enter sends · Shift+Enter starts a new line</p>}
    </form>
  )
}
