import type { GenerationState } from '../state/generation-store.ts'
import { useGeneration } from '../state/hooks.ts'
import { ErrorAlert } from './error-alert.tsx'

function statusLine (status: GenerationState['status'], lastRun: GenerationState['lastRun'], failed: boolean): string {
  if (status === 'running') return 'Generating…'
  if (status === 'stopping') return 'Stopping…'
  if (failed) return 'Failed.'
  if (lastRun === null) return 'Ready.'
  const rate = `${lastRun.tokensPerSecond.toFixed(0)} tokens/s with ${lastRun.engine}`
  return lastRun.aborted
    ? `Stopped after ${lastRun.tokens} tokens (${rate}).`
    : `Done: ${lastRun.tokens} tokens in ${(lastRun.elapsedMs / 1000).toFixed(2)} s (${rate}).`
}

/** The streamed text, how the run went, and its error if any. */
export function OutputPanel () {
  const output = useGeneration((s) => s.output)
  const status = useGeneration((s) => s.status)
  const lastRun = useGeneration((s) => s.lastRun)
  const error = useGeneration((s) => s.error)

  return (
    <section className='panel' aria-labelledby='output-heading'>
      <h2 id='output-heading'>Output</h2>
      <div role='log' aria-labelledby='output-heading' aria-busy={status !== 'idle'} className='output'>{output}</div>
      <p role='status' className='hint'>{statusLine(status, lastRun, error !== null)}</p>
      {error !== null && <ErrorAlert title='Generation failed' error={error} />}
    </section>
  )
}
