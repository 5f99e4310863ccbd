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
