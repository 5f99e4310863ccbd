/**
 * The actions against a scripted client: what lands in the stores.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { WorkerRemoteError, type GenerateParams, type GenerateResult, type ModelSummary } from '../workers/generate-protocol.ts'
import type { GenerateClient, GenerateEvents, ModelFiles } from '../workers/generate-client.ts'
import { createAppActions } from './app-actions.ts'
import { generationStore, resetGenerationStore, setSetting } from './state/generation-store.ts'
import { modelStore, resetModelStore } from './state/model-store.ts'

const MODEL: ModelSummary = { source: 'default', checkpointName: 'stories260K.bin', tokenizerName: 'tok512.bin', checkpointBytes: 1, dim: 64, nLayers: 5, nHeads: 8, vocabSize: 512, seqLen: 512 }
const RESULT: GenerateResult = { tokens: 3, promptTokens: 0, elapsedMs: 10, tokensPerSecond: 300, aborted: false }

/** A client whose generate() is driven by the test. */
function scriptedClient (run: (params: GenerateParams, events: GenerateEvents, signal?: AbortSignal) => Promise<GenerateResult>, load?: (files: ModelFiles) => Promise<ModelSummary>): GenerateClient {
  return { generate: run, loadModel: load ?? (() => Promise.resolve(MODEL)), dispose: () => {} }
}

beforeEach(() => {
  resetGenerationStore()
  resetModelStore()
})

describe('generate', () => {
  it('streams text into the store and records the run', async () => {
    let seen: GenerateParams | undefined
    const actions = createAppActions(scriptedClient(async (params, events) => {
      seen = params
      events.onModel?.(MODEL)
      events.onText('Once upon')
      expect(generationStore.getState().status).toBe('running')
      events.onText(' a time')
      return RESULT
    }))
    setSetting('steps', '60')
    setSetting('engine', 'w8a8')
    await actions.generate()
    expect(seen).toMatchObject({ prompt: '', steps: 60, temperature: 0, topp: 0.9, engine: 'w8a8' })
    expect(seen?.seed).not.toBe(0)
    expect(generationStore.getState()).toMatchObject({ status: 'idle', output: 'Once upon a time', error: null, lastRun: { ...RESULT, engine: 'w8a8' } })
    expect(modelStore.getState().model).toEqual(MODEL)
  })

  it('sends an empty number field as NaN, for the core to refuse', async () => {
    let seen: GenerateParams | undefined
    const actions = createAppActions(scriptedClient(async (params) => { seen = params; return RESULT }))
    setSetting('steps', ' ')
    await actions.generate()
    expect(seen?.steps).toBeNaN()
  })

  it('keeps the streamed text and shows the error when the worker fails', async () => {
    const actions = createAppActions(scriptedClient(async (_params, events) => {
      events.onText('Once')
      throw new WorkerRemoteError({ name: 'ModelFetchError', code: 'MODEL_FETCH', message: 'cannot fetch' })
    }))
    await actions.generate()
    expect(generationStore.getState()).toMatchObject({ status: 'idle', output: 'Once', lastRun: null, error: { name: 'ModelFetchError', code: 'MODEL_FETCH', message: 'cannot fetch' } })
  })

  it('stop aborts the signal and the run ends as stopped', async () => {
    const actions = createAppActions(scriptedClient((_params, _events, signal) => new Promise((resolve) => {
      signal?.addEventListener('abort', () => { resolve({ ...RESULT, aborted: true }) })
    })))
    const run = actions.generate()
    await actions.generate() // ignored while running
    actions.stop()
    expect(generationStore.getState().status).toBe('stopping')
    await run
    expect(generationStore.getState()).toMatchObject({ status: 'idle', lastRun: { aborted: true } })
  })
})

describe('loadModel', () => {
  it('records the loaded model', async () => {
    let names: string[] = []
    const actions = createAppActions(scriptedClient(async () => RESULT, async (files) => {
      names = [files.checkpointName, files.tokenizerName]
      return { ...MODEL, source: 'file', checkpointName: files.checkpointName, tokenizerName: files.tokenizerName }
    }))
    await actions.loadModel(new File([new Uint8Array(4)], 'a.bin'), new File([new Uint8Array(4)], 'b.bin'))
    expect(names).toEqual(['a.bin', 'b.bin'])
    expect(modelStore.getState()).toMatchObject({ loading: false, error: null, model: { source: 'file', checkpointName: 'a.bin' } })
  })

  it('shows the format error and keeps the previous model', async () => {
    const actions = createAppActions(scriptedClient(async () => RESULT, async () => {
      throw new WorkerRemoteError({ name: 'ModelFormatError', code: 'MODEL_FORMAT', message: 'not a llama2.c checkpoint: the file has 5 bytes' })
    }))
    modelStore.setState({ model: MODEL })
    await actions.loadModel(new File(['hello'], 'a.txt'), new File(['hello'], 'b.txt'))
    expect(modelStore.getState()).toMatchObject({ loading: false, model: MODEL, error: { code: 'MODEL_FORMAT', message: 'not a llama2.c checkpoint: the file has 5 bytes' } })
  })
})
