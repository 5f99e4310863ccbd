/**
 * What the embedding page's Content-Security-Policy must allow the widget, and plain words
 * when it does not. Measured in Chromium (e2e/widget-csp.spec.ts), for a widget served from
 * origin W:
 * - `worker-src blob: W` — the HE worker starts from a same-origin blob: bootstrap (a page
 *   may not start a worker from another origin's URL; worker-bootstrap.ts), and what a
 *   module worker imports is fetched as a worker too (HTML: a module worker's whole graph
 *   has the destination "worker"), so its script on W needs worker-src as well;
 * - `script-src W 'wasm-unsafe-eval'` — the widget's script, and SEAL, which is WebAssembly
 *   (a blob: worker runs under the page's policy);
 * - `connect-src W` plus the relay's and the miners' WebSockets — SEAL's .wasm and the model
 *   are fetched from W (a refused relay shows as "Cannot reach the relay", said plainly).
 * No style source: the widget's styles are a constructed stylesheet.
 *
 * A refused worker fails with an empty error event, and a refused compile inside the worker
 * is reported to the worker alone, so the widget looks here instead: WebAssembly by
 * compiling an empty module (the page and its blob: worker share the policy), a refused
 * blob: worker by the page's `securitypolicyviolation` event.
 */

/** Why the widget cannot run on this page (`origin` is the widget's), naming what the page must allow. */
export const POLICY_BLOCKS = Object.freeze({
  worker: (origin: string) => `This page's Content-Security-Policy blocks the widget's encryption worker: the page must allow worker-src blob: ${origin}.`,
  wasm: (origin: string) => `This page's Content-Security-Policy blocks WebAssembly, which the encryption needs: the page must allow script-src ${origin} 'wasm-unsafe-eval'.`,
  /** A worker that did not load, for no reason the page could see: CORS on the widget's server, or worker-src on the page. */
  unloaded: (origin: string) => `The encryption worker could not load its script from ${origin}: that server must allow this page to load it (CORS), and, if this page has a Content-Security-Policy, it must allow worker-src blob: ${origin}.`
})

/** The smallest WebAssembly module: magic and version. */
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])

/** Whether this page may compile WebAssembly (false when its policy lacks 'wasm-unsafe-eval'). */
export function wasmAllowed (): boolean {
  try {
    void new WebAssembly.Module(EMPTY_MODULE)
    return true
  } catch {
    return false
  }
}

let blobWorkersRefused = false
let watching = false

/** Start noting the page's refusals of blob: workers (once per page). */
export function watchWorkerRefusals (): void {
  if (watching || typeof document === 'undefined') return
  watching = true
  document.addEventListener('securitypolicyviolation', (e) => {
    if (/^(worker-src|child-src|script-src|default-src)/.test(e.effectiveDirective) && (e.blockedURI === 'blob' || e.blockedURI.startsWith('blob:'))) blobWorkersRefused = true
  })
}

/** Whether the page has refused a blob: worker since {@link watchWorkerRefusals}. */
export function workerRefused (): boolean {
  return blobWorkersRefused
}
