/**
 * The few web-platform globals `src/core` may use. They exist in every runtime Cerberus
 * targets (browsers, workers, Node ≥ 24); declaring just these — instead of the DOM
 * library — keeps the DOM out of the core at type-check time (tsconfig.core.json).
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
}
export {}
