/**
 * Where the model files are, and reading them, on Node.
 *
 * The default model is stories260K from karpathy/tinyllamas (MIT). Its directory is, in
 * order: `$CERBERUS_MODEL_DIR`; `../shared/models/stories260K` next to the project (this
 * development setting); `~/.cache/cerberus/models/stories260K` (where
 * `npm run fetch-model` puts it).
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseModel, type LoadedModel } from '../app/index.ts'
import { CerberusError } from '../core/errors.ts'
import { detectModelFormat } from '../core/model/index.ts'

/** File names of the default model inside its directory. */
export const DEFAULT_MODEL_FILES = { checkpoint: 'stories260K.bin', tokenizer: 'tok512.bin' } as const

/** The project root (two levels above this file). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The user cache directory `npm run fetch-model` downloads into. */
export const CACHE_MODEL_DIR = join(homedir(), '.cache', 'cerberus', 'models', 'stories260K')

/** A model or tokenizer file cannot be read. */
export class ModelFileError extends CerberusError {
  constructor (message: string, cause?: unknown) {
    super('MODEL_FILE', message, { cause })
  }
}

/** The directory holding the default model (it may not exist yet). */
export function defaultModelDir (env: NodeJS.ProcessEnv = process.env): string {
  if (env.CERBERUS_MODEL_DIR !== undefined && env.CERBERUS_MODEL_DIR !== '') return resolve(env.CERBERUS_MODEL_DIR)
  const shared = resolve(PROJECT_ROOT, '..', 'shared', 'models', 'stories260K')
  if (existsSync(join(shared, DEFAULT_MODEL_FILES.checkpoint))) return shared
  return CACHE_MODEL_DIR
}

/**
 * Read a file into a Uint8Array.
 * @throws {ModelFileError} naming the file and the reason, with a remedy for a missing default model.
 */
export async function readModelFile (path: string, what: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path)
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String((err as Error).message)
    throw new ModelFileError(`cannot read the ${what} ${path}: ${reason}. Pass --model/--tokenizer, set CERBERUS_MODEL_DIR, or run "npm run fetch-model" to download stories260K.`, err)
  }
}

/**
 * Read and parse a model (a GGUF file alone, or a llama2.c checkpoint and its tokenizer;
 * default: the default model's files), named by its file and the SHA-256 of its bytes, as
 * every role holds it.
 * @throws {ModelFileError} for a file that cannot be read; the parsers' typed errors for one that is not a model.
 */
export async function loadModelFiles (modelPath?: string, tokenizerPath?: string): Promise<LoadedModel> {
  const dir = defaultModelDir()
  const mp = modelPath ?? join(dir, DEFAULT_MODEL_FILES.checkpoint)
  const model = await readModelFile(mp, 'model')
  // A GGUF file brings its own tokenizer: the default tokenizer file is for the default model.
  const tokenizer = tokenizerPath === undefined && detectModelFormat(model) === 'gguf' ? undefined : await readModelFile(tokenizerPath ?? join(dir, DEFAULT_MODEL_FILES.tokenizer), 'tokenizer')
  return await parseModel(basename(mp, extname(mp)), model, tokenizer)
}
