import { adviceFor, type ErrorView } from '../errors.ts'

/** Props of {@link ErrorMessage}. */
export interface ErrorMessageProps {
  /** What failed, in a few words ("The model was not loaded"). */
  readonly title: string
  /** Its `code` picks the advice shown ({@link adviceFor}); none is shown for an unknown code. */
  readonly error: ErrorView
}

/** An error where it happened: what failed, the message as the code gave it, and what to do next. */
export function ErrorMessage ({ title, error }: ErrorMessageProps) {
  const advice = adviceFor(error.code)
  return (
    <div role='alert' className='alert'>
      <p><strong>{title}:</strong> {error.message} <code className='code'>{error.code}</code></p>
      {advice !== undefined && <p className='advice'>{advice}</p>}
    </div>
  )
}
