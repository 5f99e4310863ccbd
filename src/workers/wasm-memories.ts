/**
 * The WebAssembly memories instantiated in this thread, caught as they are made: node-seal
 * exposes neither its module's memory nor its heap size, and only that size tells whether
 * SEAL objects leak (its heap never shrinks, so a leak is growth). V8's "external" memory
 * is no substitute: it counts garbage buffers too, and lags. Measurement only — the
 * instances themselves are untouched.
 *
 * Only modules instantiated asynchronously are seen (SEAL's is). The MAC kernel's
 * instances (`new WebAssembly.Instance`, one per prepared matrix) are not, on purpose:
 * holding their memories here would keep them alive after their matrix is released.
 */

const memories: WebAssembly.Memory[] = []
let installed = false

function keep<T extends WebAssembly.Instance | WebAssembly.WebAssemblyInstantiatedSource> (r: T): T {
  const instance = r instanceof WebAssembly.Instance ? r : r.instance
  for (const e of Object.values(instance.exports)) if (e instanceof WebAssembly.Memory) memories.push(e)
  return r
}

/** From now on, remember the memory of every module instantiated in this thread. */
export function watchWasmMemories (): void {
  if (installed) return
  installed = true
  const instantiate = WebAssembly.instantiate.bind(WebAssembly) as (...a: unknown[]) => Promise<WebAssembly.Instance | WebAssembly.WebAssemblyInstantiatedSource>
  const streaming = WebAssembly.instantiateStreaming?.bind(WebAssembly) as ((...a: unknown[]) => Promise<WebAssembly.WebAssemblyInstantiatedSource>) | undefined
  WebAssembly.instantiate = (async (...a: unknown[]) => keep(await instantiate(...a))) as typeof WebAssembly.instantiate
  if (streaming !== undefined) WebAssembly.instantiateStreaming = (async (...a: unknown[]) => keep(await streaming(...a))) as typeof WebAssembly.instantiateStreaming
}

/** Bytes of every watched memory now (SEAL's heap, and the MAC kernel's). */
export function wasmMemoryBytes (): number {
  return memories.reduce((a, m) => a + m.buffer.byteLength, 0)
}
