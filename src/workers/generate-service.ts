/**
 * The generation worker's logic, free of worker globals so it can also run in-thread
 * (tests). `generate.worker.ts` only wires it to `self`.
 *
 * `generate()` of the core is synchronous; the run loop gives the event loop a turn after
 * every batch of text it posts, so an `abort` message can land between tokens.
 */
import {
  createEngine, createRng, createSampler, ENGINE_KINDS, generate, GenerationOptionsError, parseCheckpoint, parseTokenizer,
  type Checkpoint, type EngineKind, type LogitsEngine, type Tokenizer
} from '../core/model/index.ts'
import { DEFAULT_MODEL_URLS, serializeError, type GenerateRequest, type LoadModelRequest, type MainToWorker, type ModelSummary, type WorkerToMain } from './generate-protocol.ts'
import { GenerateBusyError, ModelFetchError, WorkerProtocolError } from './errors.ts'

/** How often text is posted to the UI while generating: smooth to read, cheap to render. */
const DEFAULT_FLUSH_INTERVAL_MS = 50

/** Dependencies of {@link createGenerateService}; all but `post` have working defaults. */
export interface GenerateServiceInit {
  /** Send a reply to the UI thread (replies hold no buffers worth transferring). */
  post: (message: WorkerToMain) => void
  /** Fetch a same-origin file as bytes. Default: `fetch`, failing on a non-2xx status. */
  fetchBytes?: (url: string, signal: AbortSignal) => Promise<Uint8Array>
  /** Give pending messages (an `abort`) a chance to run. Default: a `setTimeout(0)` turn. */
  yieldToEventLoop?: () => Promise<void>
  /** Milliseconds clock. Default: `performance.now`. */
  now?: () => number
  /** Post text at most this often, in ms (default 50). */
  flushIntervalMs?: number
}

/** The worker side of the protocol. */
export interface GenerateService {
  /** Handle one request; replies go through `post`. Never rejects. */
  handle: (message: MainToWorker) => Promise<void>
}

interface LoadedModel {
  readonly summary: ModelSummary
  readonly checkpoint: Checkpoint
  readonly tokenizer: Tokenizer
  /** Engines keep a KV cache; reusing one is safe because a run overwrites positions from 0. */
  readonly engines: Map<EngineKind, LogitsEngine>
}

async function defaultFetchBytes (url: string, signal: AbortSignal): Promise<Uint8Array> {
  let res: Response
  try {
    res = await fetch(url, { signal })
  } catch (err) {
    if (signal.aborted) throw err
    throw new ModelFetchError(`cannot fetch ${url}: ${(err as Error).message}. Use "Load model" to pick the files instead.`, { cause: err })
  }
  if (!res.ok) {
    // The dev server's 404 explains itself (src/node/vite-model-plugin.ts); other servers get our remedy.
    const detail = (await res.text().catch(() => '')).slice(0, 400).trim()
    const why = res.headers.get('content-type')?.startsWith('text/plain') === true && detail !== ''
      ? detail
      : 'this server does not serve the default model (npm start does). Use "Load model" to pick the files instead.'
    throw new ModelFetchError(`cannot fetch ${url}: HTTP ${res.status}. ${why}`)
  }
  // Static hosts with a single-page fallback answer unknown paths with index.html.
  if (res.headers.get('content-type')?.startsWith('text/html') === true) {
    throw new ModelFetchError(`cannot fetch ${url}: the server answered with an HTML page, not the model file. Use "Load model" to pick the files instead.`)
  }
  return new Uint8Array(await res.arrayBuffer())
}

function defaultYield (): Promise<void> {
  return new Promise((resolve) => { setTimeout(resolve, 0) })
}

/**
 * Parse a checkpoint and its tokenizer into a usable model.
 * @throws {ModelFormatError | TokenizerFormatError} from the core, with its message.
 */
function loadModel (checkpointBytes: Uint8Array, tokenizerBytes: Uint8Array, names: Pick<ModelSummary, 'source' | 'checkpointName' | 'tokenizerName'>): LoadedModel {
  const checkpoint = parseCheckpoint(checkpointBytes)
  const c = checkpoint.config
  const tokenizer = parseTokenizer(tokenizerBytes, c.vocabSize)
  const summary: ModelSummary = { ...names, checkpointBytes: checkpointBytes.byteLength, dim: c.dim, nLayers: c.nLayers, nHeads: c.nHeads, vocabSize: c.vocabSize, seqLen: c.seqLen }
  return { summary, checkpoint, tokenizer, engines: new Map() }
}

/**
 * The generation worker's state machine: one model, at most one generation at a time.
 *
 * @example
 * ```ts
 * const service = createGenerateService({ post: (m) => self.postMessage(m) })
 * self.addEventListener('message', (e) => { void service.handle(e.data) })
 * ```
 */
export function createGenerateService (init: GenerateServiceInit): GenerateService {
  const post = init.post
  const fetchBytes = init.fetchBytes ?? defaultFetchBytes
  const yieldToEventLoop = init.yieldToEventLoop ?? defaultYield
  const now = init.now ?? (() => performance.now())
  const flushIntervalMs = init.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS

  let model: LoadedModel | null = null
  let running: { id: number, controller: AbortController } | null = null

  async function ensureModel (id: number, signal: AbortSignal): Promise<LoadedModel> {
    if (model !== null) return model
    const [ckpt, tok] = await Promise.all([fetchBytes(DEFAULT_MODEL_URLS.checkpoint, signal), fetchBytes(DEFAULT_MODEL_URLS.tokenizer, signal)])
    // A file picked while the default was downloading wins.
    if (model !== null) return model
    model = loadModel(ckpt, tok, { source: 'default', checkpointName: 'stories260K.bin', tokenizerName: 'tok512.bin' })
    post({ type: 'model-loaded', id, model: model.summary })
    return model
  }

  function engineFor (m: LoadedModel, kind: EngineKind): LogitsEngine {
    if (!ENGINE_KINDS.includes(kind)) throw new GenerationOptionsError(`unknown engine "${String(kind)}"; expected one of ${ENGINE_KINDS.join(', ')}`)
    let engine = m.engines.get(kind)
    if (engine === undefined) {
      engine = createEngine(kind, m.checkpoint)
      m.engines.set(kind, engine)
    }
    return engine
  }

  async function runGenerate (req: GenerateRequest): Promise<void> {
    if (running !== null) {
      post({ type: 'error', id: req.id, error: serializeError(new GenerateBusyError(`generation ${running.id} is still running; stop it before starting another`)) })
      return
    }
    const controller = new AbortController()
    const signal = controller.signal
    running = { id: req.id, controller }
    let tokens = 0
    let promptTokens = 0
    let stoppedEarly = false
    let start = now()
    try {
      const m = await ensureModel(req.id, signal)
      const engine = engineFor(m, req.engine)
      const sampler = createSampler({ temperature: req.temperature, topp: req.topp }, createRng(req.seed))
      // Tokens may end inside a UTF-8 character: decode as a stream, post whole characters.
      const decoder = new TextDecoder()
      let pending = ''
      const flush = (): void => {
        if (pending !== '') post({ type: 'chunk', id: req.id, text: pending })
        pending = ''
      }
      start = now()
      let lastFlush = start
      try {
        for (const t of generate(engine, m.tokenizer, sampler, { prompt: req.prompt, steps: req.steps, signal })) {
          tokens++
          if (t.fromPrompt) promptTokens++
          pending += decoder.decode(t.bytes, { stream: true })
          if (now() - lastFlush >= flushIntervalMs) {
            flush()
            await yieldToEventLoop()
            lastFlush = now()
          }
        }
      } catch (err) {
        if (!signal.aborted) throw err
        stoppedEarly = true
      }
      pending += decoder.decode()
      flush()
    } catch (err) {
      // Stop during the model download is a stop, not a failure.
      if (!signal.aborted) {
        post({ type: 'error', id: req.id, error: serializeError(err) })
        return
      }
      stoppedEarly = true
    } finally {
      running = null
    }
    const elapsedMs = now() - start
    post({ type: 'done', id: req.id, tokens, promptTokens, elapsedMs, tokensPerSecond: elapsedMs > 0 ? tokens / (elapsedMs / 1000) : 0, aborted: stoppedEarly })
  }

  function runLoadModel (req: LoadModelRequest): void {
    try {
      const loaded = loadModel(new Uint8Array(req.checkpoint), new Uint8Array(req.tokenizer), { source: 'file', checkpointName: req.checkpointName, tokenizerName: req.tokenizerName })
      // A running generation keeps its own engine; the next one uses the new model.
      model = loaded
      post({ type: 'model-loaded', id: req.id, model: loaded.summary })
    } catch (err) {
      post({ type: 'error', id: req.id, error: serializeError(err) })
    }
  }

  return {
    async handle (message) {
      switch (message.type) {
        case 'generate': return await runGenerate(message)
        case 'abort':
          if (running?.id === message.id) running.controller.abort()
          return
        case 'load-model': return runLoadModel(message)
        default: {
          const unknown = message as { type?: unknown, id?: unknown }
          const id = typeof unknown.id === 'number' ? unknown.id : -1
          post({ type: 'error', id, error: serializeError(new WorkerProtocolError(`unknown request type ${JSON.stringify(unknown.type)}`)) })
        }
      }
    }
  }
}
