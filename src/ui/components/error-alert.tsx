import type { SerializedError } from '../../workers/generate-protocol.ts'

/** Props of {@link ErrorAlert}. */
export interface ErrorAlertProps {
  /** What failed, in a few words ("Generation failed"). */
  readonly title: string
  readonly error: SerializedError
}

/** An error as the user sees it: what failed, the core's message as is, and its code. */
export function ErrorAlert ({ title, error }: ErrorAlertProps) {
  return (
    <div role='alert' className='alert'>
      <strong>{title}:</strong> {error.message} <code className='code'>{error.code}</code>
    </div>
  )
}
