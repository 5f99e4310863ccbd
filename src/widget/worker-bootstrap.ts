/**
 * Starting a module Web Worker whose script lives on another origin (the widget's), from
 * a page of any origin.
 *
 * `new Worker(url)` only takes a same-origin URL (HTML: "worker scripts must be
 * same-origin"), so an embedded widget cannot start its worker from its own server
 * directly. A blob: URL made by the page *is* same-origin; a one-line module in it
 * imports the real worker script, which module loading fetches with CORS. The worker's
 * `import.meta.url` is then the real script's URL, so what it loads relative to itself
 * (SEAL's .wasm, its chunks) comes from the widget's origin too.
 */

/** The source of the bootstrap module: one static import of `scriptUrl` (absolute). */
export function bootstrapSource (scriptUrl: string): string {
  const url = new URL(scriptUrl) // throws on a relative or malformed URL: the import must not resolve against blob:
  return `import ${JSON.stringify(url.href)};\n`
}

/** What to pass to `new Worker`, and how to release it once the worker is constructed. */
export interface WorkerScript {
  readonly url: string
  /** Frees the blob: URL (a no-op for a same-origin script). */
  readonly revoke: () => void
}

/**
 * A URL that `new Worker(url, { type: 'module' })` on a page of `pageOrigin` accepts and
 * that runs the module at `scriptUrl`: the script itself when same-origin, else a blob:
 * bootstrap. The script's server must allow CORS when it is cross-origin.
 */
export function moduleWorkerScript (scriptUrl: string, pageOrigin: string): WorkerScript {
  if (new URL(scriptUrl).origin === pageOrigin) return { url: scriptUrl, revoke: () => {} }
  const url = URL.createObjectURL(new Blob([bootstrapSource(scriptUrl)], { type: 'text/javascript' }))
  // The worker's fetch of a blob: URL is bound when `new Worker` parses it (HTML: a
  // worker's URL is parsed, with its blob URL entry, in the constructor), so revoking
  // right after construction is safe.
  return { url, revoke: () => { URL.revokeObjectURL(url) } }
}
