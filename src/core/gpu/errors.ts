/**
 * Errors of the GPU multiply-accumulate. The donor and the headless miner branch on these
 * codes: unavailable, device lost and out of memory mean "compute this job on the CPU
 * (the WebAssembly kernel) instead"; a job error means the caller passed the wrong data.
 */
import { CerberusError } from '../errors.ts'

/** No usable GPU: no WebGPU adapter, no GPU execution provider, or the runtime refused to start. */
export class GpuUnavailableError extends CerberusError {
  constructor (message: string, cause?: unknown) {
    super('GPU_UNAVAILABLE', message, { cause })
  }
}

/** The GPU device was lost (driver reset, tab backgrounded, another process took it) during a job. */
export class GpuDeviceLostError extends CerberusError {
  constructor (message: string, cause?: unknown) {
    super('GPU_DEVICE_LOST', message, { cause })
  }
}

/** The GPU could not hold the weights or a job's intermediate tensors. */
export class GpuOutOfMemoryError extends CerberusError {
  constructor (message: string, cause?: unknown) {
    super('GPU_OUT_OF_MEMORY', message, { cause })
  }
}

/** A job does not fit the prepared shape (wrong number of words, a residue out of range, no weights). */
export class GpuJobError extends CerberusError {
  constructor (message: string) {
    super('GPU_JOB', message)
  }
}

/**
 * The exact graph cannot be built for these parameters: a prime outside the supported
 * widths, or an int32 bound that some intermediate would exceed (a bug, never data).
 */
export class GpuGraphError extends CerberusError {
  constructor (message: string) {
    super('GPU_GRAPH', message)
  }
}
