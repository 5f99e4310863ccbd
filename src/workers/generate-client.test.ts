/**
 * The client and the worker service together, in-thread: the same protocol the page uses,
 * with messages structured-cloned (and buffers transferred) as `postMessage` would.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { stories260K } from '../core/model/test-fixtures.ts'
import { createGenerateClient, type GenerateClient, type GenerateWorkerPort } from './generate-client.ts'
import { DEFAULT_MODEL_URLS, WorkerRemoteError, type GenerateParams, type ModelSummary, type WorkerToMain } from './generate-protocol.ts'
import { createGenerateService, type GenerateServiceInit } from './generate-service.ts'
import { ModelFetchError } from './errors.ts'

/** karpathy/llama2.c run.c, stories260K + tok512, empty prompt, -t 0 -n 60. */
const RUN_C_GREEDY_60 = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high'

const files = stories260K()

const serveDefault: GenerateServiceInit['fetchBytes'] = async (url) => {
  if (url === DEFAULT_MODEL_URLS.checkpoint) return files.model.slice()
  if (url === DEFAULT_MODEL_URLS.tokenizer) return files.tokenizer.slice()
  throw new Error(`unexpected fetch of ${url}`)
}

/** The worker's in-thread twin: each message crosses in its own macrotask, in order. */
function inThreadPort (init: Omit<GenerateServiceInit, 'post'>): GenerateWorkerPort {
  let receive: (message: WorkerToMain) => void = () => {}
  const service = createGenerateService({ ...init, post: (m) => { const copy = structuredClone(m); setTimeout(() => { receive(copy) }, 0) } })
  return {
    send: (m, transfer) => { const copy = structuredClone(m, { transfer }); setTimeout(() => { void service.handle(copy) }, 0) },
    connect: (onMessage) => { receive = onMessage },
    terminate: () => {}
  }
}

const GREEDY: GenerateParams = { prompt: '', steps: 60, temperature: 0, topp: 0.9, seed: 1, engine: 'f32' }

async function collect (client: GenerateClient, params: GenerateParams, signal?: AbortSignal): Promise<{ text: string, chunks: string[], models: ModelSummary[], result: Awaited<ReturnType<GenerateClient['generate']>> }> {
  const chunks: string[] = []
  const models: ModelSummary[] = []
  const result = await client.generate(params, { onText: (t) => { chunks.push(t) }, onModel: (m) => { models.push(m) } }, signal)
  return { text: chunks.join(''), chunks, models, result }
}

describe('generation through the worker protocol', () => {
  it('fetches the default model and streams what run.c prints', async () => {
    const client = createGenerateClient(inThreadPort({ fetchBytes: serveDefault }))
    const { text, models, result } = await collect(client, GREEDY)
    expect(text).toBe(RUN_C_GREEDY_60)
    expect(result).toMatchObject({ tokens: 60, promptTokens: 0, aborted: false })
    expect(models).toEqual([expect.objectContaining({ source: 'default', dim: 64, nLayers: 5, vocabSize: 512, seqLen: 512 })])
    // The second run reuses the model: no second 'model-loaded'.
    const again = await collect(client, { ...GREEDY, engine: 'f32-fast' })
    expect(again.text).toBe(RUN_C_GREEDY_60)
    expect(again.models).toEqual([])
  })

  it('decodes UTF-8 split across byte-fallback tokens without replacement characters', async () => {
    const client = createGenerateClient(inThreadPort({ fetchBytes: serveDefault, flushIntervalMs: 0 }))
    const { text, chunks, result } = await collect(client, { ...GREEDY, prompt: 'Café € ok', steps: 20 })
    expect(text.startsWith('Café € ok')).toBe(true)
    expect(chunks.every((c) => !c.includes('\uFFFD'))).toBe(true)
    expect(result.promptTokens).toBeGreaterThan(5)
  })

  it('stops between tokens when aborted, keeping the text so far', async () => {
    const client = createGenerateClient(inThreadPort({ fetchBytes: serveDefault, flushIntervalMs: 0 }))
    const stop = new AbortController()
    let text = ''
    const result = await client.generate({ ...GREEDY, steps: 0 }, { onText: (t) => { text += t; stop.abort() } }, stop.signal)
    expect(result.aborted).toBe(true)
    expect(result.tokens).toBeGreaterThan(0)
    expect(result.tokens).toBeLessThan(512)
    expect(RUN_C_GREEDY_60.startsWith(text.slice(0, 20))).toBe(true)
  })

  it('refuses a second generation while one runs', async () => {
    const client = createGenerateClient(inThreadPort({ fetchBytes: serveDefault }))
    const first = collect(client, GREEDY)
    await expect(collect(client, GREEDY)).rejects.toMatchObject({ code: 'GENERATE_BUSY' })
    expect((await first).text).toBe(RUN_C_GREEDY_60)
  })

  it('reports bad options and an unknown engine as GENERATION_OPTIONS', async () => {
    const client = createGenerateClient(inThreadPort({ fetchBytes: serveDefault }))
    await expect(collect(client, { ...GREEDY, steps: Number.NaN })).rejects.toMatchObject({ name: 'GenerationOptionsError', code: 'GENERATION_OPTIONS' })
    await expect(collect(client, { ...GREEDY, temperature: -1 })).rejects.toMatchObject({ code: 'GENERATION_OPTIONS' })
    await expect(collect(client, { ...GREEDY, engine: 'f16' as never })).rejects.toMatchObject({ code: 'GENERATION_OPTIONS', message: expect.stringContaining('unknown engine') })
  })

  it('reports a failed download of the default model as MODEL_FETCH', async () => {
    const client = createGenerateClient(inThreadPort({ fetchBytes: () => Promise.reject(new ModelFetchError('cannot fetch: HTTP 404')) }))
    const err = await collect(client, GREEDY).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WorkerRemoteError)
    expect(err).toMatchObject({ name: 'ModelFetchError', code: 'MODEL_FETCH', message: 'cannot fetch: HTTP 404' })
  })
})

describe('fetching the default model with fetch()', () => {
  afterEach(() => { vi.unstubAllGlobals() })

  it('passes on the dev server\'s explanation of a 404', async () => {
    vi.stubGlobal('fetch', async () => new Response('Not found: tok512.bin is not in the model directory.', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } }))
    const client = createGenerateClient(inThreadPort({}))
    await expect(collect(client, GREEDY)).rejects.toMatchObject({ code: 'MODEL_FETCH', message: expect.stringMatching(/HTTP 404\. Not found: tok512\.bin/) })
  })

  it('refuses an HTML page served in place of the model (single-page fallback)', async () => {
    vi.stubGlobal('fetch', async () => new Response('<!doctype html><title>app</title>', { status: 200, headers: { 'Content-Type': 'text/html' } }))
    const client = createGenerateClient(inThreadPort({}))
    await expect(collect(client, GREEDY)).rejects.toMatchObject({ code: 'MODEL_FETCH', message: expect.stringContaining('HTML page') })
  })

  it('fetches the two default URLs', async () => {
    const seen: string[] = []
    vi.stubGlobal('fetch', async (url: string) => {
      seen.push(url)
      return new Response(url === DEFAULT_MODEL_URLS.checkpoint ? files.model.slice() : files.tokenizer.slice(), { headers: { 'Content-Type': 'application/octet-stream' } })
    })
    const client = createGenerateClient(inThreadPort({}))
    expect((await collect(client, GREEDY)).text).toBe(RUN_C_GREEDY_60)
    expect(seen.sort()).toEqual([DEFAULT_MODEL_URLS.checkpoint, DEFAULT_MODEL_URLS.tokenizer].sort())
  })
})

describe('loading model files', () => {
  it('refuses a file that is not a checkpoint with the core\'s message, and keeps the old model', async () => {
    const client = createGenerateClient(inThreadPort({ fetchBytes: serveDefault }))
    const text = new TextEncoder().encode('This is a text file, not a llama2.c checkpoint at all.\n')
    const checkpoint = text.slice().buffer
    const err = await client.loadModel({ checkpoint, tokenizer: text.slice().buffer, checkpointName: 'notes.txt', tokenizerName: 'tok.txt' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'ModelFormatError', code: 'MODEL_FORMAT', message: expect.stringContaining('not a llama2.c checkpoint') })
    expect(checkpoint.byteLength).toBe(0) // transferred, not copied
    expect((await collect(client, GREEDY)).text).toBe(RUN_C_GREEDY_60)
  })

  it('uses picked files from then on', async () => {
    const client = createGenerateClient(inThreadPort({ fetchBytes: () => Promise.reject(new Error('the default must not be fetched')) }))
    const summary = await client.loadModel({ checkpoint: files.model.slice().buffer, tokenizer: files.tokenizer.slice().buffer, checkpointName: 'a.bin', tokenizerName: 'b.bin' })
    expect(summary).toMatchObject({ source: 'file', checkpointName: 'a.bin', tokenizerName: 'b.bin', checkpointBytes: files.model.byteLength })
    const { text, models } = await collect(client, GREEDY)
    expect(text).toBe(RUN_C_GREEDY_60)
    expect(models).toEqual([])
  })

  it('refuses a tokenizer that does not match the model', async () => {
    const client = createGenerateClient(inThreadPort({ fetchBytes: serveDefault }))
    const err = await client.loadModel({ checkpoint: files.model.slice().buffer, tokenizer: files.tokenizer.slice(0, 1000).buffer, checkpointName: 'a.bin', tokenizerName: 'short.bin' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'TOKENIZER_FORMAT' })
  })
})
