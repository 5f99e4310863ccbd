/**
 * A model as every role holds it: parsed, with the SHA-256 of its file's bytes that names
 * it on the mesh (miners announce it; a user only uses miners with the same hash). Where
 * the bytes come from is the platform's: model-source.web.ts (fetch, picked files) and
 * src/node/model-files.ts (files on disk).
 */
import { loadModelBytes, type Checkpoint, type ModelFormat, type Tokenizer } from '../core/model/index.ts'
import type { ModelSource } from './types.ts'

/** A loaded model. */
export interface LoadedModel {
  readonly name: string
  /** Hex SHA-256 of the model file's bytes. */
  readonly sha256: string
  readonly bytes: number
  readonly ckpt: Checkpoint
  readonly tokenizer: Tokenizer
  /** The file's format (a GGUF file carries its tokenizer and chat template). */
  readonly format: ModelFormat
  /**
   * The file bytes it was parsed from, so a worker can parse its own copy (a tokenizer
   * holds functions, which a structured clone cannot carry).
   */
  readonly files: ModelFiles
}

/** A model's file bytes: the model file, and a llama2.c checkpoint's tokenizer file. */
export interface ModelFiles {
  readonly model: Uint8Array
  readonly tokenizer?: Uint8Array
}

/** Bytes done / total (total 0 when unknown). */
export type ByteProgress = (done: number, total: number) => void

/** Loads a model from where the platform finds it. */
export type ModelLoader = (source: ModelSource, onProgress?: ByteProgress) => Promise<LoadedModel>

/** Hex SHA-256 of `bytes` (WebCrypto, in browsers and Node). */
export async function sha256Hex (bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
  return [...d].map(b => b.toString(16).padStart(2, '0')).join('')
}

/**
 * Parse a model — a GGUF file alone (it brings its own tokenizer and chat template), or a
 * llama2.c checkpoint with its tokenizer file — and name it.
 * @throws {ModelLoadError}, {GgufFormatError}, {ModelFormatError}, {TokenizerFormatError}
 *   (from the loader and parsers) for files that are not what they claim.
 */
export async function parseModel (name: string, model: Uint8Array, tokenizer?: Uint8Array): Promise<LoadedModel> {
  const { ckpt, tokenizer: tok, format } = loadModelBytes(model, tokenizer)
  const files: ModelFiles = tokenizer === undefined ? { model } : { model, tokenizer }
  return { name, sha256: await sha256Hex(model), bytes: model.byteLength, ckpt, tokenizer: tok, format, files }
}
