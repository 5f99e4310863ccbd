import { useState, type FormEvent } from 'react'
import type { ModelSource } from '../../app/types.ts'
import { formatBytes } from '../format.ts'
import { useClient, useModelLoad } from '../state/hooks.ts'
import { StartProgress } from './chat/start-progress.tsx'
import { ErrorMessage } from './error-message.tsx'

/** Props of {@link ModelPanel}; the outcome of a switch is read from the model-load slice. */
export interface ModelPanelProps {
  /** Called with a complete source only: the default, or a model file / URL (trimmed, non-empty) with its tokenizer when it is a llama2.c checkpoint. */
  readonly onLoad: (source: ModelSource) => void
  /** False while an answer streams (the model cannot change under it). */
  readonly canLoad: boolean
}

type Choice = ModelSource['kind']

/** The model in use, and how to switch: the default, files, or URLs. */
export function ModelPanel ({ onLoad, canLoad }: ModelPanelProps) {
  const model = useClient(s => s.model)
  const progress = useClient(s => s.progress)
  const busy = useModelLoad(s => s.busy)
  const error = useModelLoad(s => s.error)
  const loadedFrom = useModelLoad(s => s.loadedFrom)
  const [choice, setChoice] = useState<Choice>('files')
  const [files, setFiles] = useState<{ model: File | null, tokenizer: File | null }>({ model: null, tokenizer: null })
  const [urls, setUrls] = useState({ model: '', tokenizer: '' })

  const source: ModelSource | null = choice === 'default'
    ? { kind: 'default' }
    : choice === 'files'
      ? (files.model !== null ? { kind: 'files', model: files.model, ...(files.tokenizer === null ? {} : { tokenizer: files.tokenizer }) } : null)
      : (urls.model.trim() !== '' ? { kind: 'url', model: urls.model.trim(), ...(urls.tokenizer.trim() === '' ? {} : { tokenizer: urls.tokenizer.trim() }) } : null)

  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (source !== null) onLoad(source)
  }

  return (
    <section className='panel' aria-labelledby='model-heading'>
      <h2 id='model-heading'>Model</h2>
      <p className='hint'>
        {model === undefined
          ? 'Loading the default model (stories260K)…'
          : <>In use: <strong>{model.name}</strong> ({loadedFrom === 'default' ? 'default' : loadedFrom === 'files' ? 'your files' : 'from the web'}) — {model.layers} layers, dimension {model.dim}, {model.vocab} tokens, {formatBytes(model.bytes)}. <span className='nowrap' title={model.sha256}>SHA-256 {model.sha256.slice(0, 12)}…</span></>}
      </p>
      <form onSubmit={submit}>
        <fieldset disabled={busy || !canLoad}>
          <legend>Load another model</legend>
          <p className='hint'>A GGUF file (Llama architecture; it carries its tokenizer and chat template), or a llama2.c checkpoint (legacy float32 export) and its tokenizer. Miners serve a model only if they have the same file, so a model of your own needs a miner started with it.</p>
          <div className='choices' role='radiogroup' aria-label='Model source'>
            {([['files', 'Files on this computer'], ['url', 'Web addresses'], ['default', 'The default model']] as const).map(([value, label]) => (
              <label key={value} className='choice'>
                <input type='radio' name='model-source' value={value} checked={choice === value} onChange={() => { setChoice(value) }} /> {label}
              </label>
            ))}
          </div>
          {choice === 'files' && (
            <div className='row'>
              <div className='field grow'>
                <label htmlFor='model-file'>Model file</label>
                <input id='model-file' type='file' accept='.bin,.gguf,application/octet-stream' onChange={(e) => { setFiles(f => ({ ...f, model: e.target.files?.[0] ?? null })) }} />
              </div>
              <div className='field grow'>
                <label htmlFor='tokenizer-file'>Tokenizer file (llama2.c only)</label>
                <input id='tokenizer-file' type='file' accept='.bin,application/octet-stream' onChange={(e) => { setFiles(f => ({ ...f, tokenizer: e.target.files?.[0] ?? null })) }} />
              </div>
            </div>
          )}
          {choice === 'url' && (
            <div className='row'>
              <div className='field grow'>
                <label htmlFor='model-url'>Model URL</label>
                <input id='model-url' type='url' value={urls.model} placeholder='https://…/stories15M.bin' onChange={(e) => { setUrls(u => ({ ...u, model: e.target.value })) }} />
              </div>
              <div className='field grow'>
                <label htmlFor='tokenizer-url'>Tokenizer URL (llama2.c only)</label>
                <input id='tokenizer-url' type='url' value={urls.tokenizer} placeholder='https://…/tokenizer.bin' onChange={(e) => { setUrls(u => ({ ...u, tokenizer: e.target.value })) }} />
              </div>
            </div>
          )}
          <div className='buttons'>
            <button type='submit' disabled={source === null}>{busy ? 'Loading…' : 'Load model'}</button>
          </div>
        </fieldset>
      </form>
      {busy && model !== undefined && <p className='hint'>Until the new model is ready, answers come from {model.name}.</p>}
      {busy && <StartProgress progress={progress} />}
      {error !== null && <ErrorMessage title='The model was not loaded' error={error} />}
    </section>
  )
}
