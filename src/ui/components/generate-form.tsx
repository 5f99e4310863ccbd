import { ENGINE_KINDS, type EngineKind } from '../../core/model/index.ts'
import { setSetting } from '../state/generation-store.ts'
import { useGeneration } from '../state/hooks.ts'

/** What each engine is, in the words of `src/core/model/engines.ts`. */
const ENGINE_LABELS: Record<EngineKind, string> = {
  f32: "f32 — run.c's float32 arithmetic",
  'f32-fast': 'f32-fast — float32, faster',
  w8a8: "w8a8 — int8, the encrypted pipeline's twin"
}

/** Props of {@link GenerateForm}. */
export interface GenerateFormProps {
  readonly onGenerate: () => Promise<void>
  readonly onStop: () => void
}

/** Prompt, steps, temperature, engine, and the Generate / Stop buttons. */
export function GenerateForm ({ onGenerate, onStop }: GenerateFormProps) {
  const prompt = useGeneration((s) => s.settings.prompt)
  const steps = useGeneration((s) => s.settings.steps)
  const temperature = useGeneration((s) => s.settings.temperature)
  const engine = useGeneration((s) => s.settings.engine)
  const status = useGeneration((s) => s.status)

  return (
    <form className='panel' aria-label='Generation settings' onSubmit={(e) => { e.preventDefault(); void onGenerate() }}>
      <div className='field'>
        <label htmlFor='prompt'>Prompt</label>
        <textarea id='prompt' rows={3} value={prompt} placeholder='Empty: the model starts a story of its own' onChange={(e) => { setSetting('prompt', e.target.value) }} />
      </div>
      <div className='row'>
        <div className='field'>
          <label htmlFor='steps'>Steps</label>
          <input id='steps' type='number' min={0} step={1} value={steps} onChange={(e) => { setSetting('steps', e.target.value) }} />
        </div>
        <div className='field'>
          <label htmlFor='temperature'>Temperature</label>
          <input id='temperature' type='number' min={0} step={0.1} value={temperature} onChange={(e) => { setSetting('temperature', e.target.value) }} />
        </div>
        <div className='field grow'>
          <label htmlFor='engine'>Engine</label>
          <select id='engine' value={engine} onChange={(e) => { setSetting('engine', e.target.value as EngineKind) }}>
            {ENGINE_KINDS.map((kind) => <option key={kind} value={kind}>{ENGINE_LABELS[kind]}</option>)}
          </select>
        </div>
      </div>
      <p className='hint'>Steps count the prompt's tokens too; 0 runs the model's whole context. Temperature 0 is greedy: the same text every time.</p>
      <div className='buttons'>
        <button type='submit' disabled={status !== 'idle'}>Generate</button>
        <button type='button' onClick={onStop} disabled={status !== 'running'}>Stop</button>
      </div>
    </form>
  )
}
