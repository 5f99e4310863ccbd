/**
 * Vite: the `<cerberus-chat>` widget as its own bundle (`npm run build:widget`), for
 * pages of any origin to embed with one `<script type="module" src=".../cerberus-chat.js">`.
 *
 * Output, in dist/widget/:
 *   cerberus-chat.js              the element and the whole user side (client, libp2p, engine)
 *   assets/he.worker.web-HASH.js  the HE worker (SEAL's JS glue, the keys live here)
 *   assets/seal_throws-HASH.wasm  SEAL
 *
 * Not `build.lib`: library mode inlines every asset as base64 (vite: "in library mode all
 * assets are inlined"), which would put SEAL's 1.3 MB .wasm into the worker as 1.7 MB of
 * text, compiled without streaming. A plain build with a JS entry keeps it a file.
 *
 * `base: './'` makes every emitted URL relative to the importing module
 * (`new URL('assets/…', import.meta.url)`), so the files load from wherever the script
 * was loaded, on whatever page embeds it. The worker is started through a same-origin
 * blob: bootstrap (src/widget/worker-bootstrap.ts), since a page cannot construct a
 * Worker from another origin's URL.
 */
import { defineConfig } from 'vite'
import { sealWasmAlias } from './src/node/seal-wasm.ts'

export default defineConfig({
  // The app's public/ folder is not the widget's.
  publicDir: false,
  base: './',
  // he.worker.web.ts is a module worker (it is imported by a module bootstrap).
  worker: { format: 'es' },
  resolve: { alias: [sealWasmAlias] },
  build: {
    outDir: 'dist/widget',
    emptyOutDir: true,
    // Custom elements, private fields, adoptedStyleSheets: evergreen browsers only.
    target: 'es2023',
    // The entry is one file of ~1 MB of JS (libp2p is most of it); its size is reported, not a warning.
    chunkSizeWarningLimit: 2048,
    rolldownOptions: {
      input: { 'cerberus-chat': 'src/widget/index.ts' },
      // Keep the entry's exports (TAG) although nothing imports them inside the bundle.
      preserveEntrySignatures: 'strict',
      output: {
        entryFileNames: '[name].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
        // One file for the page to load: no code-split chunks of the entry.
        codeSplitting: false
      }
    }
  }
})
