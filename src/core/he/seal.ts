/**
 * Loading Microsoft SEAL (node-seal, WebAssembly). This folder is the only place in the
 * project that imports node-seal; everything outside it sees bytes and typed arrays.
 */
import initialize, { type MainModule } from 'node-seal/throws'

/** The SEAL WebAssembly module. One per worker: its calls are synchronous and its heap is its own. */
export type Seal = MainModule

/** Options for {@link loadSeal}. */
export interface LoadSealOptions {
  /**
   * Where the `.wasm` file is, for bundlers (a Vite build passes the URL of
   * `node-seal/dist/seal_throws.wasm?url`). Node finds it by itself.
   */
  readonly wasmUrl?: string
}

/** Instantiate SEAL (~40–110 ms in Node, ~200 ms in Chromium). */
export async function loadSeal (opts: LoadSealOptions = {}): Promise<Seal> {
  const wasmUrl = opts.wasmUrl
  return await initialize(wasmUrl === undefined ? {} : { locateFile: () => wasmUrl })
}

/** Anything with SEAL's manual `delete()`. */
export interface Deletable {
  delete: () => void
  isDeleted?: () => boolean
}

/**
 * Owns SEAL objects and deletes them together: nothing in the WebAssembly heap is
 * reclaimed by the garbage collector, so every object must be deleted explicitly.
 */
export class Scope {
  private readonly owned: Deletable[] = []

  /** Take ownership of `obj`; it is deleted with the scope. */
  own<T extends Deletable> (obj: T): T {
    this.owned.push(obj)
    return obj
  }

  /** Delete everything owned, newest first. */
  delete (): void {
    for (let i = this.owned.length - 1; i >= 0; i--) {
      const o = this.owned[i]
      if (o.isDeleted?.() !== true) o.delete()
    }
    this.owned.length = 0
  }
}

/** Run `fn` with a scope that is deleted afterwards, whatever happens. */
export function withScope<T> (fn: (scope: Scope) => T): T {
  const scope = new Scope()
  try {
    return fn(scope)
  } finally {
    scope.delete()
  }
}
