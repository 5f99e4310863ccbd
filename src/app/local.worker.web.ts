/**
 * Entry of the local-generation Web Worker: the plaintext engine off the page's UI thread.
 * It holds one model's {@link createLocalGeneration}, answers one prompt at a time and
 * stops one when asked (local generation yields between rounds, so "stop" is read).
 */
import { serializeError } from '../core/errors.ts'
import { loadModelBytes } from '../core/model/index.ts'
import { createLocalGeneration, type LocalGeneration } from './local-generation.ts'
import type { LocalReply, LocalRequest } from './local-protocol.ts'

/** The part of `DedicatedWorkerGlobalScope` used here (the project type-checks with the DOM library). */
interface WorkerScope {
  postMessage: (message: LocalReply) => void
  addEventListener: (type: 'message', listener: (event: MessageEvent<LocalRequest>) => void) => void
}

const scope = self as unknown as WorkerScope
let local: LocalGeneration | undefined
let modelError: unknown
const running = new Map<number, AbortController>()

scope.addEventListener('message', (event) => {
  const m = event.data
  if (m.type === 'model') {
    try {
      local = createLocalGeneration(loadModelBytes(m.files.model, m.files.tokenizer), m.options)
      modelError = undefined
    } catch (err) {
      local = undefined
      modelError = err
    }
    return
  }
  if (m.type === 'stop') {
    running.get(m.id)?.abort()
    return
  }
  const controller = new AbortController()
  running.set(m.id, controller)
  const answer = local === undefined
    ? Promise.reject(modelError ?? new Error('the local worker has no model yet'))
    : local.generate(m.prompt, m.settings, { signal: controller.signal, onText: delta => { scope.postMessage({ type: 'text', id: m.id, delta }) } })
  answer.then(
    receipt => { scope.postMessage({ type: 'done', id: m.id, receipt }) },
    (err: unknown) => { scope.postMessage({ type: 'error', id: m.id, error: serializeError(err) }) }
  ).finally(() => { running.delete(m.id) })
})
