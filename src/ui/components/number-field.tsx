import { useState } from 'react'

/** Props of {@link NumberField}; the settings panel spreads a `SETTING_BOUNDS` entry for `min`, `max` and `step`. */
export interface NumberFieldProps {
  /** The input's id; the hint under it gets `${id}-hint`. */
  readonly id: string
  readonly label: string
  /** The value in use (from the store), shown again on blur. */
  readonly value: number
  readonly min: number
  readonly max: number
  readonly step: number
  /** Shown under the box while the text is valid; an out-of-range message replaces it otherwise. */
  readonly hint?: string
  /** Called on every edit that leaves a finite number in [min, max]; never with anything else. */
  readonly onCommit: (value: number) => void
}

/**
 * A labelled number box that keeps what is typed (an empty box, "0.") while it is not a
 * number yet, commits every valid value, says when a value is out of range, and shows the
 * value in use again on blur.
 */
export function NumberField ({ id, label, value, min, max, step, hint, onCommit }: NumberFieldProps) {
  const [text, setText] = useState<string | null>(null)
  const shown = text ?? String(value)
  const n = Number(shown)
  const valid = shown.trim() !== '' && Number.isFinite(n) && n >= min && n <= max
  const hintId = `${id}-hint`
  return (
    <div className='field'>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type='number'
        inputMode='decimal'
        min={min}
        max={max}
        step={step}
        value={shown}
        aria-invalid={!valid}
        aria-describedby={hintId}
        onChange={(e) => {
          setText(e.target.value)
          const v = Number(e.target.value)
          if (e.target.value.trim() !== '' && Number.isFinite(v) && v >= min && v <= max) onCommit(v)
        }}
        onBlur={() => { setText(null) }}
      />
      <span id={hintId} className={valid ? 'hint' : 'hint hint-error'}>{valid ? hint : `Enter a number from ${min} to ${max}; ${value} is in use.`}</span>
    </div>
  )
}
