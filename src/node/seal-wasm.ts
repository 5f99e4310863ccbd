/**
 * SEAL's .wasm for bundles: `import url from 'cerberus:seal-wasm?url'` in browser code
 * (the HE and benchmark workers) resolves, through this Vite alias, to node-seal's
 * `seal_throws.wasm`, which the build then emits under a hashed name. node-seal itself
 * locates the file at run time with `new URL('seal_throws.wasm', import.meta.url)` built
 * from a variable — no bundler can follow that, and its package exports do not include the
 * file — so a built worker would ask for an unhashed name that does not exist.
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Absolute path of node-seal's .wasm (the variant that throws on errors). */
export const SEAL_WASM_PATH = join(dirname(fileURLToPath(import.meta.resolve('node-seal/throws'))), 'seal_throws.wasm')

/** The Vite alias entry for `cerberus:seal-wasm`. */
export const sealWasmAlias = Object.freeze({ find: /^cerberus:seal-wasm(?=\?|$)/, replacement: SEAL_WASM_PATH })
