/**
 * Local generation in a Web Worker (local.worker.web.ts), for pages: the plaintext engine
 * never runs on the UI thread. The page's client gets it as its `localGeneration`
 * component (src/ui/main.tsx); the model's file bytes are copied into the worker once and
 * parsed there. Text streams back
 * through `onText`; per-token callbacks (`onToken`) stay in the worker.
 */
import { RemoteError } from '../core/errors.ts'
import { GenerationBusyError } from './private-generation.ts'
import type { LocalGeneration, LocalGenerationOptions } from './local-generation.ts'
import type { LocalReply, LocalRequest } from './local-protocol.ts'
import type { LoadedModel } from './model-source.ts'
import type { AnswerReceipt } from './types.ts'

/** Local generation for `model` in a new module Web Worker of this origin. */
export function workerLocalGeneration (model: LoadedModel, options: LocalGenerationOptions = {}): LocalGeneration {
  const worker = new Worker(new URL('./local.worker.web.ts', import.meta.url), { type: 'module', name: 'cerberus-local' })
  const post = (m: LocalRequest): void => { worker.postMessage(m) }
  post({ type: 'model', files: model.files, options })
  let nextId = 1
  let current: { id: number, onText?: (t: string) => void, resolve: (r: AnswerReceipt) => void, reject: (e: Error) => void } | undefined
  worker.addEventListener('message', (event: MessageEvent<LocalReply>) => {
    const r = event.data
    if (current === undefined || r.id !== current.id) return
    if (r.type === 'text') current.onText?.(r.delta)
    else if (r.type === 'done') current.resolve(r.receipt)
    else current.reject(new RemoteError(r.error))
  })
  worker.addEventListener('error', (event) => {
    event.preventDefault()
    current?.reject(new RemoteError({ name: 'WorkerCrashedError', code: 'WORKER_CRASHED', message: `the local generation worker stopped: ${event.message === '' ? 'it could not be loaded' : event.message}` }))
  })
  return {
    async generate (prompt, settings, cb = {}) {
      if (current !== undefined) throw new GenerationBusyError('an answer is already being generated')
      const id = nextId++
      try {
        return await new Promise<AnswerReceipt>((resolve, reject) => {
          current = { id, onText: cb.onText, resolve, reject }
          const stop = (): void => { post({ type: 'stop', id }) }
          post({ type: 'generate', id, prompt, settings })
          if (cb.signal?.aborted === true) stop()
          else cb.signal?.addEventListener('abort', stop, { once: true })
        })
      } finally {
        current = undefined
      }
    },
    async close () {
      worker.terminate()
    }
  }
}
