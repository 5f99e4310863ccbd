import { useState, type FormEvent } from 'react'
import type { ModelSummary } from '../../workers/generate-protocol.ts'
import { useModel } from '../state/hooks.ts'
import { ErrorAlert } from './error-alert.tsx'

function describe (m: ModelSummary): string {
  const origin = m.source === 'default' ? 'default, from this server' : 'loaded from your files'
  return `${m.checkpointName} + ${m.tokenizerName} (${origin}): dim ${m.dim}, ${m.nLayers} layers, ${m.nHeads} heads, vocabulary ${m.vocabSize}, context ${m.seqLen}.`
}

/** Props of {@link ModelPanel}. */
export interface ModelPanelProps {
  readonly onLoad: (checkpoint: File, tokenizer: File) => Promise<void>
}

/** The model in use, and a picker for a llama2.c checkpoint and tokenizer. */
export function ModelPanel ({ onLoad }: ModelPanelProps) {
  const model = useModel((s) => s.model)
  const loading = useModel((s) => s.loading)
  const error = useModel((s) => s.error)
  // The picked files are this form's own business until submitted.
  const [checkpoint, setCheckpoint] = useState<File | null>(null)
  const [tokenizer, setTokenizer] = useState<File | null>(null)

  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (checkpoint !== null && tokenizer !== null) void onLoad(checkpoint, tokenizer)
  }

  return (
    <section className='panel' aria-labelledby='model-heading'>
      <h2 id='model-heading'>Model</h2>
      <p className='hint'>{model === null ? 'stories260K (default): fetched from this server on the first Generate.' : describe(model)}</p>
      <form onSubmit={submit}>
        <fieldset disabled={loading}>
          <legend>Load model</legend>
          <p className='hint'>A llama2.c checkpoint (legacy float32 export) and its tokenizer. The files are read in this browser only.</p>
          <div className='row'>
            <div className='field grow'>
              <label htmlFor='checkpoint-file'>Checkpoint</label>
              <input id='checkpoint-file' type='file' onChange={(e) => { setCheckpoint(e.target.files?.[0] ?? null) }} />
            </div>
            <div className='field grow'>
              <label htmlFor='tokenizer-file'>Tokenizer</label>
              <input id='tokenizer-file' type='file' onChange={(e) => { setTokenizer(e.target.files?.[0] ?? null) }} />
            </div>
          </div>
          <div className='buttons'>
            <button type='submit' disabled={checkpoint === null || tokenizer === null}>{loading ? 'Loading…' : 'Load model'}</button>
          </div>
        </fieldset>
      </form>
      {error !== null && <ErrorAlert title='Model not loaded' error={error} />}
    </section>
  )
}
