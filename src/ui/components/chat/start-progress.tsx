import type { PhaseProgress, StartPhase } from '../../../app/types.ts'

/** The first-run phases in order, with what each is for in plain words. */
export const PHASES: ReadonlyArray<{ readonly phase: StartPhase, readonly label: string }> = [
  { phase: 'loading-model', label: 'Loading the model' },
  { phase: 'generating-keys', label: 'Generating your encryption keys (they never leave this tab)' },
  { phase: 'connecting', label: 'Connecting to the relay' },
  { phase: 'finding-miners', label: 'Finding miners' }
]

/** Props of {@link StartProgress}; the chat shows it on the first run, the model panel during a switch. */
export interface StartProgressProps {
  /** The phase being worked on now, if any. */
  readonly progress?: PhaseProgress
}

/**
 * The first-run work as labelled progress bars: finished phases full, the current one as
 * far as it got (indeterminate while its total is unknown), the rest empty.
 */
export function StartProgress ({ progress }: StartProgressProps) {
  const current = progress === undefined ? -1 : PHASES.findIndex(p => p.phase === progress.phase)
  return (
    <ol className='phases' aria-label='Getting ready'>
      {PHASES.map((p, i) => {
        const isCurrent = i === current && progress !== undefined
        const label = isCurrent ? progress.label : p.label
        const id = `phase-${p.phase}`
        const done = i < current || (isCurrent && progress.total > 0 && progress.done >= progress.total)
        return (
          <li key={p.phase} className={isCurrent ? 'phase phase-current' : done ? 'phase phase-done' : 'phase'}>
            <span id={id} className='phase-label'>{label}{done && !isCurrent ? ' — done' : ''}</span>
            {isCurrent && progress.total > 0
              ? <progress aria-labelledby={id} max={progress.total} value={Math.min(progress.done, progress.total)}>{Math.round((100 * progress.done) / progress.total)} %</progress>
              : isCurrent
                ? <progress aria-labelledby={id} />
                : <progress aria-labelledby={id} max={1} value={done ? 1 : 0}>{done ? '100 %' : '0 %'}</progress>}
          </li>
        )
      })}
    </ol>
  )
}
