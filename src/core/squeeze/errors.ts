import { CerberusError } from '../errors.ts'

/** Squeezing options that contradict each other (e.g. round fusion without folded gains). */
export class SqueezeOptionsError extends CerberusError {
  constructor (message: string) {
    super('SQUEEZE_OPTIONS', message)
  }
}
