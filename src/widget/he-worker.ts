/**
 * The visitor's HE worker, started by the widget: the same `he.worker.web.ts` the app runs
 * (SEAL, the keys, encryption and decryption), loaded from the widget's origin through a
 * same-origin bootstrap, so it starts on any embedding page.
 */
import type { HePort } from '../workers/he-client.ts'
import { webWorkerHePort } from '../workers/he-port.web.ts'
import heWorkerUrl from '../workers/he.worker.web.ts?worker&url'
// SEAL's .wasm as emitted by the widget build (an alias of vite.widget.config.ts).
import sealWasmUrl from 'cerberus:seal-wasm?url'
import { moduleWorkerScript } from './worker-bootstrap.ts'

/** The HE worker script's absolute URL (next to the widget's own script). */
export function heWorkerScriptUrl (): string {
  return new URL(heWorkerUrl, import.meta.url).href
}

/**
 * SEAL's .wasm, absolute, for the client's `wasmUrl`: the worker is told where it is
 * (node-seal would otherwise look for an unhashed `seal_throws.wasm` beside its glue).
 */
export function sealWasmScriptUrl (): string {
  return new URL(sealWasmUrl, import.meta.url).href
}

/** Start an HE worker for this page (an {@link HePortFactory} for the client). */
export function spawnEmbeddedHeWorker (): HePort {
  const script = moduleWorkerScript(heWorkerScriptUrl(), location.origin)
  try {
    return webWorkerHePort(new Worker(script.url, { type: 'module', name: 'cerberus-he' }))
  } finally {
    script.revoke()
  }
}
