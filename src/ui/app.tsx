import type { AppActions } from './app-actions.ts'
import { GenerateForm } from './components/generate-form.tsx'
import { ModelPanel } from './components/model-panel.tsx'
import { OutputPanel } from './components/output-panel.tsx'

/** Props of {@link App}. */
export interface AppProps {
  readonly actions: AppActions
}

/** The page: local generation with the default or a picked model. */
export function App ({ actions }: AppProps) {
  return (
    <div className='app'>
      <header>
        <h1>Cerberus</h1>
        <p className='lede'>
          This build runs the model locally, in your browser (in a Web Worker): your prompt and the generated text stay on this page.
          There is no encryption yet — the encrypted mesh of volunteer browsers comes later.
        </p>
      </header>
      <main>
        <GenerateForm onGenerate={actions.generate} onStop={actions.stop} />
        <OutputPanel />
        <ModelPanel onLoad={actions.loadModel} />
      </main>
    </div>
  )
}
