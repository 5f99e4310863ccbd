// Lint rules, and the layering of ../shared/docs/STYLE.md enforced rather than hoped for:
//
//   core  ←  gpu  ←  workers;  core  ←  net;  workers, net  ←  app  ←  ui, widget
//   (each layer imports only those below it)
//   bench, cli, node, gateway, signaling-server, scripts sit above (they assemble and run things)
//
// - src/core is pure TypeScript: no React, DOM, libp2p, Node built-ins or I/O; only
//   src/core/he imports node-seal (the HE library is quarantined there);
// - net and workers do not import each other; ui does not import net, workers or core/he;
// - upper layers import a sub-folder of core, net, workers or app through its index.ts
//   (a layer's top-level modules, e.g. net/peer.ts or the platform siblings
//   workers/he-port.web.ts, are imported directly);
// - test fixtures (src/test) live outside core and are imported by tests only;
// - source files stay under 300 lines of code unless they say at their top why not.
// scripts/lint-rules.test.ts holds a probe per forbidden import and shows each rule fires.
import js from '@eslint/js'
import importX, { createNodeResolver } from 'eslint-plugin-import-x'
import reactHooks from 'eslint-plugin-react-hooks'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const L = {
  core: './src/core',
  gpu: './src/gpu',
  workers: './src/workers',
  net: './src/net',
  app: './src/app',
  ui: './src/ui',
  widget: './src/widget',
  bench: './src/bench',
  cli: './src/cli',
  gateway: './src/gateway',
  node: './src/node',
  test: './src/test',
  relay: './signaling-server',
  scripts: './scripts'
}

/** A zone: files in `target` must not import from `from`. */
const zone = (target, from, message) => ({ target, from, message })

const ZONES = [
  zone(L.core, [L.gpu, L.workers, L.net, L.app, L.ui, L.widget, L.bench, L.cli, L.gateway, L.node, L.relay, L.scripts, L.test], 'src/core must not depend on the layers above it.'),
  zone(L.gpu, [L.workers, L.net, L.app, L.ui, L.widget, L.bench, L.cli, L.gateway, L.node, L.relay, L.scripts, L.test], 'src/gpu runs the core\'s graphs on onnxruntime; it depends on src/core only.'),
  zone(L.workers, [L.net, L.app, L.ui, L.widget, L.bench, L.cli, L.gateway, L.node, L.relay, L.scripts, L.test], 'src/workers depends on src/core only (not on net, app or above).'),
  zone(L.net, [L.workers, L.gpu, L.app, L.ui, L.widget, L.bench, L.cli, L.gateway, L.node, L.relay, L.scripts, L.test], 'src/net depends on src/core only (not on workers, app or above).'),
  zone(L.app, [L.ui, L.widget, L.bench, L.cli, L.gateway, L.node, L.relay, L.scripts, L.test], 'src/app assembles core, net and workers; it must not depend on the UI, the tools above it, or test fixtures.'),
  zone(L.ui, [L.net, L.workers, L.gpu, `${L.core}/he`, L.widget, L.bench, L.cli, L.gateway, L.node, L.relay, L.scripts, L.test], 'src/ui talks to the app layer (src/app); it must not reach net, workers or the HE library.'),
  zone(L.widget, [L.net, L.gpu, `${L.core}/he`, L.ui, L.bench, L.cli, L.gateway, L.node, L.relay, L.scripts, L.test], 'src/widget talks to the app layer (src/app); it must not reach net or the HE library.'),
  zone(L.node, [L.ui, L.widget, L.bench, L.cli, L.gateway, L.scripts, L.test], 'src/node holds Node helpers below the CLI and the benchmarks.'),
  zone(L.gateway, [L.workers, L.gpu, L.net, L.ui, L.widget, L.bench, L.cli, L.node, L.relay, L.scripts, L.test], 'src/gateway serves the app layer over HTTP; its pipeline is injected (src/cli/serve.ts assembles it).'),
  zone(L.relay, [L.workers, L.gpu, L.app, L.ui, L.widget, L.bench, L.cli, L.gateway, L.node, L.scripts, L.test], 'the relay depends on src/core and src/net only.')
]

/**
 * Upper layers reach a lower layer's sub-folder only through its index.ts: for files of
 * `layer`, importing anything else inside another layer's sub-folder is refused.
 */
const LAYERS_WITH_FOLDERS = ['core', 'net', 'workers', 'gpu', 'app']
const throughIndex = (layer) => ({
  files: [layer === 'relay' ? 'signaling-server/**/*.ts' : layer === 'scripts' ? 'scripts/**/*.ts' : layer === 'e2e' ? 'e2e/**/*.ts' : `src/${layer}/**/*.{ts,tsx}`],
  ignores: ['**/*.test.ts'],
  rules: {
    'import-x/no-internal-modules': ['error', {
      forbid: LAYERS_WITH_FOLDERS.filter(l => l !== layer).flatMap(l => [`**/src/${l}/*/!(index).ts`, `**/src/${l}/*/*/*/**`])
    }]
  }
})

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'coverage', 'test-results', 'playwright-report', 'bench-results', '.scratch'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.mjs'] })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs']
    },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { zones: ZONES }],
      'no-restricted-imports': ['error', {
        paths: [{ name: 'node-seal', message: 'Only src/core/he may import node-seal.' }],
        patterns: [{ group: ['node-seal/*'], message: 'Only src/core/he may import node-seal.' }]
      }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }]
    }
  },
  {
    // Source files (not tests, not configs) stay small; a longer one says why at its top.
    files: ['src/**/*.{ts,tsx}', 'signaling-server/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'max-lines': ['error', { max: 300, skipBlankLines: true, skipComments: true }] }
  },
  // Upper layers use a folder's public surface, not its insides.
  ...['gpu', 'net', 'workers', 'app', 'ui', 'widget', 'bench', 'cli', 'gateway', 'node', 'relay', 'scripts'].map(throughIndex),
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['react', 'react-dom', 'react/*', 'react-dom/*', 'zustand', 'zustand/*'], message: 'src/core knows nothing of React or UI state.' },
          { group: ['libp2p', '@libp2p/*', '@chainsafe/*', '@multiformats/*'], message: 'src/core knows nothing of the network; put this in src/net.' },
          { group: ['node:*', 'fs', 'path', 'os', 'child_process', 'worker_threads'], message: 'src/core is platform-neutral; put Node code in src/node.' },
          { group: ['node-seal', 'node-seal/*'], message: 'Only src/core/he may import node-seal.' },
          { group: ['onnxruntime-web', 'onnxruntime-web/*', 'onnxruntime-node'], message: 'src/core/gpu builds graphs; run them from src/gpu.' }
        ]
      }],
      'no-restricted-globals': ['error',
        ...['window', 'document', 'navigator', 'localStorage', 'indexedDB', 'fetch', 'XMLHttpRequest', 'WebSocket', 'Worker', 'postMessage', 'process', 'Buffer', 'require'].map(name => ({ name, message: 'src/core is pure: no DOM, network, worker or Node globals.' }))
      ]
    }
  },
  {
    files: ['src/core/he/**/*.ts'],
    ignores: ['src/core/he/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['react', 'react-dom', 'react/*', 'zustand', 'zustand/*'], message: 'src/core knows nothing of React or UI state.' },
          { group: ['libp2p', '@libp2p/*', '@chainsafe/*'], message: 'src/core knows nothing of the network.' },
          { group: ['node:*'], message: 'src/core is platform-neutral.' }
        ]
      }]
    }
  },
  {
    // Tests may read the real model files from disk (src/test) and build any layer's parts.
    files: ['**/*.test.ts', 'e2e/**/*.ts'],
    rules: { 'import-x/no-restricted-paths': 'off' }
  },
  {
    files: ['src/ui/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules
  }
)
