/**
 * The visitor's HE worker, started by the widget: the same `he.worker.web.ts` the app runs
 * (SEAL, the keys, encryption and decryption), loaded from the widget's origin through a
 * same-origin bootstrap, so it starts on any embedding page — one whose
 * Content-Security-Policy allows it (page-policy.ts), or else the widget says what the page
 * must allow.
 */
import { serializeError, type SerializedError } from '../core/errors.ts'
import type { HePort } from '../workers/he-client.ts'
import { webWorkerHePort } from '../workers/he-port.web.ts'
import heWorkerUrl from '../workers/he.worker.web.ts?worker&url'
// SEAL's .wasm as emitted by the widget build (an alias of vite.widget.config.ts).
import sealWasmUrl from 'cerberus:seal-wasm?url'
import { POLICY_BLOCKS, wasmAllowed, watchWorkerRefusals, workerRefused } from './page-policy.ts'
import { moduleWorkerScript } from './worker-bootstrap.ts'

/** How long a worker's empty error waits for the page's violation report that explains it (they are separate tasks). */
const VIOLATION_WAIT_MS = 250

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

/** A port whose worker could not start: its first request fails with `message` (the client shows it). */
function refusedPort (message: string): HePort {
  let crash: ((e: SerializedError) => void) | undefined
  return {
    send: () => { queueMicrotask(() => crash?.(serializeError(new Error(message)))) },
    connect: (_onReply, onCrash) => { crash = onCrash },
    terminate: () => { crash = undefined }
  }
}

/** Start an HE worker for this page (an {@link HePortFactory} for the client). */
export function spawnEmbeddedHeWorker (): HePort {
  const origin = new URL(import.meta.url).origin
  if (!wasmAllowed()) return refusedPort(POLICY_BLOCKS.wasm(origin))
  watchWorkerRefusals()
  const script = moduleWorkerScript(heWorkerScriptUrl(), location.origin)
  let worker: Worker
  try {
    worker = new Worker(script.url, { type: 'module', name: 'cerberus-he' })
  } finally {
    script.revoke()
  }
  // An error without a message (a plain Event, not an ErrorEvent, in Chromium), before any
  // reply, is a script that did not load (this listener runs before the port's own, so it
  // is known when the port reports the crash).
  let replied = false
  let unloaded = false
  worker.addEventListener('message', () => { replied = true })
  worker.addEventListener('error', (e: Event) => { if (!replied && ((e as Partial<ErrorEvent>).message ?? '') === '') unloaded = true })
  const port = webWorkerHePort(worker)
  const explain = (e: SerializedError): SerializedError => {
    if (workerRefused()) return { ...e, message: POLICY_BLOCKS.worker(origin) }
    return unloaded ? { ...e, message: POLICY_BLOCKS.unloaded(origin) } : e
  }
  return {
    send: port.send,
    terminate: port.terminate,
    connect (onReply, onCrash) {
      port.connect(onReply, (e) => {
        // The page's violation report, which says why, is a task of its own: give it a moment.
        if (workerRefused() || !unloaded) onCrash(explain(e))
        else setTimeout(() => { onCrash(explain(e)) }, VIOLATION_WAIT_MS)
      })
    }
  }
}
