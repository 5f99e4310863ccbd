import { CerberusError } from '../errors.ts'

/**
 * A checkpoint file is not a usable llama2.c model: wrong size, impossible header,
 * unsupported format version, or non-finite weights. The message names what is wrong.
 */
export class ModelFormatError extends CerberusError {
  constructor (message: string) {
    super('MODEL_FORMAT', message)
  }
}

/**
 * A tokenizer file is malformed, or does not belong to the model it is used with.
 */
export class TokenizerFormatError extends CerberusError {
  constructor (message: string) {
    super('TOKENIZER_FORMAT', message)
  }
}

/**
 * Text cannot be encoded with this tokenizer (for example it lacks byte-fallback pieces),
 * or a token id is outside the vocabulary.
 */
export class TokenizerError extends CerberusError {
  constructor (message: string) {
    super('TOKENIZER', message)
  }
}

/**
 * Generation or sampling options are out of range (negative temperature, top-p outside
 * [0, 1], a token position past the model's context, ...).
 */
export class GenerationOptionsError extends CerberusError {
  constructor (message: string) {
    super('GENERATION_OPTIONS', message)
  }
}

/**
 * A file is not a well-formed GGUF file: bad magic, unsupported version, truncated data,
 * an unknown value or tensor type, an absurd count or length, a missing tensor or key.
 * The message names the part of the file that is wrong.
 */
export class GgufFormatError extends CerberusError {
  constructor (message: string, cause?: unknown) {
    super('GGUF_FORMAT', message, { cause })
  }
}

/**
 * A well-formed model file asks for something the forward pass does not compute: another
 * architecture, RoPE scaling, biases, a quantization type we do not read. The message says
 * what the model needs and, where there is one, what to use instead.
 */
export class UnsupportedModelError extends CerberusError {
  constructor (message: string) {
    super('MODEL_UNSUPPORTED', message)
  }
}

/** A chat template failed to parse or to render, or the messages are not what it takes. */
export class ChatTemplateError extends CerberusError {
  constructor (message: string, cause?: unknown) {
    super('CHAT_TEMPLATE', message, { cause })
  }
}

/**
 * Model files were handed over in a combination that cannot work: a llama2.c checkpoint
 * without its tokenizer, a GGUF file plus a tokenizer file, or a file that is neither.
 */
export class ModelLoadError extends CerberusError {
  constructor (message: string) {
    super('MODEL_LOAD', message)
  }
}
