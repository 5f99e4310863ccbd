/** Props of {@link EmptyState}. */
export interface EmptyStateProps {
  /** The model's name, when known. */
  readonly model?: string
  /** A suggestion was clicked: the chat puts it in the prompt box (it is not sent). */
  readonly onPick: (prompt: string) => void
}

/** Beginnings the default model (trained on TinyStories) continues well. */
export const SUGGESTIONS = ['Once upon a time', 'The little dog wanted to', 'Lily and Ben went to the park. They']

/** A new conversation: what this model does (it continues text), and a few beginnings to try. */
export function EmptyState ({ model, onPick }: EmptyStateProps) {
  return (
    <div className='empty-state'>
      <h3>Start a story</h3>
      <p>
        {model ?? 'The default model'} is a tiny story model, not an assistant: it does not follow instructions, it continues
        whatever you write. Give it the beginning of a story and it writes the rest, privately.
      </p>
      <p className='hint'>Try one of these:</p>
      <ul className='suggestions'>
        {SUGGESTIONS.map(s => <li key={s}><button type='button' onClick={() => { onPick(s) }}>{s}</button></li>)}
      </ul>
    </div>
  )
}
