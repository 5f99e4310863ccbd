/**
 * Vite: the React app, served cross-origin isolated, plus the default model files.
 *
 * COOP same-origin + COEP require-corp make the page `crossOriginIsolated`
 * (SharedArrayBuffer, multi-threaded WASM later). The port comes from CERBERUS_PORT
 * (default 5173); strictPort so a taken port fails instead of moving silently.
 */
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'
import { defaultModelPlugin } from './src/node/vite-model-plugin.ts'
import { sealWasmAlias } from './src/node/seal-wasm.ts'

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp'
}

function portFromEnv (value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const port = Number(value)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`CERBERUS_PORT must be a port number (1-65535), got "${value}"`)
  return port
}

const port = portFromEnv(process.env.CERBERUS_PORT, 5173)

export default defineConfig({
  plugins: [react(), defaultModelPlugin()],
  server: { host: '127.0.0.1', port, strictPort: true, headers: ISOLATION_HEADERS },
  preview: { host: '127.0.0.1', port, strictPort: true, headers: ISOLATION_HEADERS },
  // Workers find SEAL's .wasm through this alias (src/node/seal-wasm.ts), also once built.
  resolve: { alias: [sealWasmAlias] },
  // The HE worker is a module worker (`new Worker(url, { type: 'module' })`).
  worker: { format: 'es' },
  // node-seal finds its .wasm with `new URL('seal_throws.wasm', import.meta.url)`:
  // pre-bundling would move the JS away from the .wasm.
  // libp2p is pre-bundled at start-up (bench.html imports it lazily, and a late discovery
  // makes Vite reload the page); so is onnx-proto (CommonJS, imported by the GPU worker).
  // onnxruntime-web is ESM already and finds its .wasm through a `?url` import (src/gpu).
  optimizeDeps: {
    exclude: ['node-seal', 'onnxruntime-web'],
    include: ['libp2p', '@libp2p/websockets', '@libp2p/noise', '@libp2p/yamux', '@libp2p/identify', '@libp2p/ping', '@multiformats/multiaddr', 'onnx-proto']
  },
  build: {
    rollupOptions: {
      input: { main: 'index.html', bench: 'bench.html' }
    }
  }
})
