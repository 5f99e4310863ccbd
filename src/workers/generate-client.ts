/**
 * The UI thread's side of the generation worker: requests become promises, replies are
 * matched to them by id, and a Stop becomes an `abort` message.
 *
 * @example
 * ```ts
 * const client = createGenerateClient()
 * const stop = new AbortController()
 * const result = await client.generate(
 *   { prompt: '', steps: 60, temperature: 0, topp: 0.9, seed: 1, engine: 'f32' },
 *   { onText: (text) => { out.textContent += text } },
 *   stop.signal
 * )
 * console.log(`${result.tokensPerSecond.toFixed(0)} tokens/s`)
 * ```
 */
import {
  serializeError, WorkerRemoteError,
  type GenerateParams, type GenerateResult, type MainToWorker, type ModelSummary, type SerializedError, type WorkerToMain
} from './generate-protocol.ts'
import { WorkerCrashedError } from './errors.ts'

/** A channel to a generation worker: the real one, or an in-thread twin in tests. */
export interface GenerateWorkerPort {
  /** Post a request, transferring the listed buffers. */
  send: (message: MainToWorker, transfer: Transferable[]) => void
  /** Register the receivers of replies and of a crash (called once). */
  connect: (onMessage: (message: WorkerToMain) => void, onCrash: (error: SerializedError) => void) => void
  /** Stop the worker for good. */
  terminate: () => void
}

/** Start the module Web Worker that runs `generate.worker.ts`. */
export function spawnGenerateWorker (): GenerateWorkerPort {
  const worker = new Worker(new URL('./generate.worker.ts', import.meta.url), { type: 'module', name: 'cerberus-generate' })
  return {
    send: (message, transfer) => { worker.postMessage(message, transfer) },
    connect (onMessage, onCrash) {
      worker.addEventListener('message', (event: MessageEvent<WorkerToMain>) => { onMessage(event.data) })
      worker.addEventListener('error', (event) => {
        event.preventDefault()
        const reason = event.message === '' ? 'it could not be loaded' : event.message
        onCrash(serializeError(new WorkerCrashedError(`the generation worker stopped: ${reason}. Reload the page to start a new one.`)))
      })
      worker.addEventListener('messageerror', () => {
        onCrash(serializeError(new WorkerCrashedError('a message from the generation worker could not be read. Reload the page.')))
      })
    },
    terminate: () => { worker.terminate() }
  }
}

/** Callbacks of one generation. */
export interface GenerateEvents {
  /** Newly decoded text, in order. */
  onText: (text: string) => void
  /** The worker had to load the default model first; this is it. */
  onModel?: (model: ModelSummary) => void
}

/** User-picked model files; both buffers are transferred (left detached) by {@link GenerateClient.loadModel}. */
export interface ModelFiles {
  readonly checkpoint: ArrayBuffer
  readonly tokenizer: ArrayBuffer
  readonly checkpointName: string
  readonly tokenizerName: string
}

/** Promise API over a generation worker. */
export interface GenerateClient {
  /**
   * Run one generation. Aborting `signal` stops it between two tokens; the promise then
   * resolves with `aborted: true` and the tokens made so far.
   * @throws {WorkerRemoteError} carrying the worker's error (e.g. `MODEL_FETCH`, `GENERATION_OPTIONS`).
   */
  generate: (params: GenerateParams, events: GenerateEvents, signal?: AbortSignal) => Promise<GenerateResult>
  /**
   * Make the worker use these files from now on.
   * @throws {WorkerRemoteError} with code `MODEL_FORMAT` or `TOKENIZER_FORMAT` for a bad file.
   */
  loadModel: (files: ModelFiles) => Promise<ModelSummary>
  /** Terminate the worker; pending requests fail. */
  dispose: () => void
}

interface Pending {
  readonly onMessage: (message: WorkerToMain) => void
  readonly fail: (error: SerializedError) => void
}

/** A client over `port` (by default a freshly spawned worker). */
export function createGenerateClient (port: GenerateWorkerPort = spawnGenerateWorker()): GenerateClient {
  let nextId = 1
  let dead: SerializedError | null = null
  const pending = new Map<number, Pending>()

  function kill (error: SerializedError): void {
    dead = error
    for (const p of pending.values()) p.fail(error)
    pending.clear()
    port.terminate()
  }

  port.connect((message) => { pending.get(message.id)?.onMessage(message) }, kill)

  return {
    generate (params, events, signal) {
      return new Promise((resolve, reject) => {
        if (dead !== null) { reject(new WorkerRemoteError(dead)); return }
        const id = nextId++
        const onAbort = (): void => { port.send({ type: 'abort', id }, []) }
        const settle = (): void => {
          pending.delete(id)
          signal?.removeEventListener('abort', onAbort)
        }
        pending.set(id, {
          onMessage (m) {
            switch (m.type) {
              case 'chunk': events.onText(m.text); break
              case 'model-loaded': events.onModel?.(m.model); break
              case 'done':
                settle()
                resolve({ tokens: m.tokens, promptTokens: m.promptTokens, elapsedMs: m.elapsedMs, tokensPerSecond: m.tokensPerSecond, aborted: m.aborted })
                break
              case 'error': settle(); reject(new WorkerRemoteError(m.error)); break
            }
          },
          fail (error) { settle(); reject(new WorkerRemoteError(error)) }
        })
        port.send({ type: 'generate', id, ...params }, [])
        if (signal?.aborted === true) onAbort()
        else signal?.addEventListener('abort', onAbort, { once: true })
      })
    },

    loadModel (files) {
      return new Promise((resolve, reject) => {
        if (dead !== null) { reject(new WorkerRemoteError(dead)); return }
        const id = nextId++
        pending.set(id, {
          onMessage (m) {
            if (m.type === 'model-loaded') { pending.delete(id); resolve(m.model) }
            if (m.type === 'error') { pending.delete(id); reject(new WorkerRemoteError(m.error)) }
          },
          fail (error) { pending.delete(id); reject(new WorkerRemoteError(error)) }
        })
        const { checkpoint, tokenizer, checkpointName, tokenizerName } = files
        try {
          port.send({ type: 'load-model', id, checkpoint, tokenizer, checkpointName, tokenizerName }, [checkpoint, tokenizer])
        } catch (err) {
          // e.g. a DataCloneError: the same or an already-transferred buffer.
          pending.delete(id)
          reject(err)
        }
      })
    },

    dispose () {
      if (dead === null) kill(serializeError(new WorkerCrashedError('the generation worker was shut down')))
    }
  }
}
