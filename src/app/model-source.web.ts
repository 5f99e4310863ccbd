/**
 * Getting a model into the page: the default (served next to the app), URLs, or picked
 * files — a GGUF file alone, or a llama2.c checkpoint and its tokenizer — with byte
 * progress; parsed and named by model-source.ts.
 */
import { CerberusError } from '../core/errors.ts'
import { parseModel, type ByteProgress, type LoadedModel } from './model-source.ts'
import type { ModelSource } from './types.ts'

/** The default model's files, relative to the app's model base URL. */
export const DEFAULT_MODEL = Object.freeze({ model: 'stories260K.bin', tokenizer: 'tok512.bin' })

/** A file could not be fetched (network, 404, CORS). */
export class ModelFetchError extends CerberusError {
  constructor (message: string, cause?: unknown) {
    super('MODEL_FETCH', message, { cause })
  }
}

async function fetchBytes (url: string, onProgress: ByteProgress, signal?: AbortSignal): Promise<Uint8Array> {
  let res: Response
  try {
    res = await fetch(url, { signal })
  } catch (err) {
    throw new ModelFetchError(`could not download ${url}: ${(err as Error).message} (is the address right, and does the server allow this page to fetch it?)`, err)
  }
  if (!res.ok) throw new ModelFetchError(`could not download ${url}: the server answered ${res.status} ${res.statusText}`)
  const total = Number(res.headers.get('content-length') ?? 0)
  if (res.body === null) return new Uint8Array(await res.arrayBuffer())
  const chunks: Uint8Array[] = []
  let done = 0
  const reader = res.body.getReader()
  for (;;) {
    const { value, done: end } = await reader.read()
    if (end) break
    chunks.push(value)
    done += value.byteLength
    onProgress(done, total)
  }
  const out = new Uint8Array(done)
  let o = 0
  for (const c of chunks) { out.set(c, o); o += c.byteLength }
  return out
}

async function blobBytes (b: Blob, onProgress: ByteProgress): Promise<Uint8Array> {
  const out = new Uint8Array(await b.arrayBuffer())
  onProgress(out.byteLength, out.byteLength)
  return out
}

function baseName (s: string): string {
  return s.split(/[/\\]/).pop()?.split('?')[0] ?? s
}

/**
 * Load and parse a model. @throws {ModelFetchError} when a file cannot be fetched,
 * {@link ModelFormatError}/TokenizerFormatError (from the parsers) when it is not a model.
 */
export async function loadModelSource (source: ModelSource, opts: { base: string, onProgress?: ByteProgress, signal?: AbortSignal }): Promise<LoadedModel> {
  const progress = opts.onProgress ?? (() => {})
  let model: Uint8Array
  let tok: Uint8Array | undefined
  let name: string
  if (source.kind === 'files') {
    model = await blobBytes(source.model, progress)
    tok = source.tokenizer === undefined ? undefined : await blobBytes(source.tokenizer, () => {})
    name = source.model instanceof File ? source.model.name : 'model.bin'
  } else {
    const base = opts.base.endsWith('/') ? opts.base : `${opts.base}/`
    const urls = source.kind === 'default'
      ? { model: new URL(DEFAULT_MODEL.model, new URL(base, location.href)).href, tokenizer: new URL(DEFAULT_MODEL.tokenizer, new URL(base, location.href)).href }
      : { model: new URL(source.model, location.href).href, tokenizer: source.tokenizer === undefined ? undefined : new URL(source.tokenizer, location.href).href }
    model = await fetchBytes(urls.model, progress, opts.signal)
    tok = urls.tokenizer === undefined ? undefined : await fetchBytes(urls.tokenizer, () => {}, opts.signal)
    name = baseName(urls.model)
  }
  return await parseModel(name, model, tok)
}
