/**
 * The few web-platform globals `src/core` may use. They exist in every runtime Cerberus
 * targets (browsers, workers, Node ≥ 24); declaring just these — instead of the DOM
 * library — keeps the DOM out of the core at type-check time (tsconfig.core.json). In the
 * full project (DOM library loaded) these declarations merge with the library's.
 */
declare global {
  interface AbortSignal {
    readonly aborted: boolean
    readonly reason: unknown
    throwIfAborted: () => void
  }
  class TextEncoder {
    encode (input?: string): Uint8Array
  }
  class TextDecoder {
    constructor (label?: string, options?: { fatal?: boolean })
    decode (input?: Uint8Array, options?: { stream?: boolean }): string
  }
  /** Cryptographic randomness (Freivalds secrets). */
  const crypto: { getRandomValues: <T extends Uint32Array | Uint8Array>(array: T) => T }
  /** High-resolution time in ms (benchmarks, calibration). */
  const performance: { now: () => number }
  /** The WebAssembly JS API, as far as the HE kernel uses it. */
  namespace WebAssembly {
    class Module {
      constructor (bytes: Uint8Array)
    }
    class Instance {
      constructor (module: Module, imports: object)
      readonly exports: Record<string, unknown>
    }
    class Memory {
      readonly buffer: ArrayBuffer
      grow (pages: number): number
    }
  }
}
export {}
