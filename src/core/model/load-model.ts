/**
 * One entry point for model files, whatever their format: a GGUF file (which brings its
 * own tokenizer and chat template) or a llama2.c checkpoint plus its `tokenizer.bin`.
 * Callers hash the model file's bytes (SHA-256) to name the model on the mesh, for either
 * format; the {@link Checkpoint} returned is what every engine, the plan and the miners use.
 */
import { parseCheckpoint, parseConfig, type Checkpoint } from './checkpoint.ts'
import { ModelFormatError, ModelLoadError } from './errors.ts'
import { isGguf, parseGguf } from './gguf.ts'
import { ggufCheckpoint, type GgufCheckpointOptions } from './gguf-checkpoint.ts'
import { metaString } from './gguf-metadata.ts'
import { ggufTokenizer } from './gguf-tokenizer.ts'
import { parseTokenizer, type Tokenizer } from './tokenizer.ts'

/** The model file formats Cerberus reads. */
export type ModelFormat = 'gguf' | 'llama2c'

/** A loaded model. */
export interface LoadedModelBytes {
  readonly format: ModelFormat
  readonly ckpt: Checkpoint
  readonly tokenizer: Tokenizer
  /** The model's own name (GGUF `general.name`), when it has one. */
  readonly name?: string
}

/** Magic of llama2.c's newer export formats ("ak42" as a LE uint32): still a llama2.c file. */
const LLAMA2C_NEW_MAGIC = 0x616b3432

/**
 * The format of a model file by its first bytes, or undefined when it is neither: GGUF by
 * its magic, llama2.c by a header that parses as a model's hyper-parameters.
 */
export function detectModelFormat (bytes: Uint8Array): ModelFormat | undefined {
  if (isGguf(bytes)) return 'gguf'
  if (bytes.length < 28) return undefined
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 28)
  if (dv.getUint32(0, true) === LLAMA2C_NEW_MAGIC) return 'llama2c'
  try {
    parseConfig(Int32Array.from({ length: 7 }, (_, i) => dv.getInt32(4 * i, true)))
    return 'llama2c'
  } catch {
    return undefined
  }
}

/**
 * Load a model from its file's bytes: a GGUF file alone, or a llama2.c checkpoint with
 * its tokenizer file.
 *
 * @throws {ModelLoadError} for a llama2.c checkpoint without a tokenizer, a GGUF file with
 *   a tokenizer file, a GGUF file given as the tokenizer, or a file that is neither format.
 * @throws {GgufFormatError}, {@link UnsupportedModelError}, {@link ModelFormatError},
 *   {@link TokenizerFormatError} from the parsers, for files that are not what they claim.
 */
export function loadModelBytes (modelBytes: Uint8Array, tokenizerBytes?: Uint8Array, opts: GgufCheckpointOptions = {}): LoadedModelBytes {
  if (tokenizerBytes !== undefined && isGguf(tokenizerBytes)) {
    throw new ModelLoadError('the tokenizer file is a GGUF model file; pass a GGUF model as the model, with no tokenizer file (it carries its own)')
  }
  const format = detectModelFormat(modelBytes)
  if (format === 'gguf') {
    if (tokenizerBytes !== undefined) throw new ModelLoadError('a GGUF model carries its own tokenizer; pass no tokenizer file with it')
    const file = parseGguf(modelBytes)
    const ckpt = ggufCheckpoint(file, opts)
    const tokenizer = ggufTokenizer(file, ckpt.config.vocabSize)
    const name = metaString(file.metadata, 'general.name')
    return { format, ckpt, tokenizer, ...(name === undefined ? {} : { name }) }
  }
  if (format === 'llama2c') {
    if (tokenizerBytes === undefined) throw new ModelLoadError('a llama2.c checkpoint needs its tokenizer file (tok512.bin for stories260K, tokenizer.bin for stories15M/42M/110M)')
    const ckpt = parseCheckpoint(modelBytes)
    return { format, ckpt, tokenizer: parseTokenizer(tokenizerBytes, ckpt.config.vocabSize) }
  }
  const head = [...modelBytes.subarray(0, 8)].map(b => b.toString(16).padStart(2, '0')).join(' ')
  // Neither: the llama2.c parser says most precisely what is wrong with a file that is not
  // GGUF (which header field is out of range), so its typed error is the one to give.
  if (modelBytes.length >= 28) {
    try {
      parseCheckpoint(modelBytes)
    } catch (err) {
      if (err instanceof ModelFormatError) throw new ModelFormatError(`${err.message}; the model file is neither a GGUF file nor a llama2.c checkpoint (it is ${modelBytes.length} bytes and starts with ${head}); if it is a tokenizer.bin, pass it as the tokenizer`)
      throw err
    }
  }
  throw new ModelLoadError(`the model file is neither a GGUF file nor a llama2.c checkpoint (it is ${modelBytes.length} bytes and starts ${head === '' ? 'with nothing' : `with ${head}`}); if it is a tokenizer.bin, pass it as the tokenizer`)
}
