// Lint rules, and the layering of ../shared/docs/STYLE.md enforced rather than hoped for:
// - src/core is pure TypeScript: no React, DOM, libp2p, Node built-ins or I/O;
// - only src/core/he may import node-seal (the HE library is quarantined there);
// - src/core imports nothing from the layers above it (net, workers, gpu, node, cli, ui);
// - onnxruntime is loaded in src/gpu only (src/core/gpu builds graphs, it runs none).
import js from '@eslint/js'
import importX, { createNodeResolver } from 'eslint-plugin-import-x'
import reactHooks from 'eslint-plugin-react-hooks'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const UPPER_LAYERS = ['./src/ui', './src/net', './src/workers', './src/gpu', './src/node', './src/cli']

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
      'import-x/no-restricted-paths': ['error', {
        zones: [{ target: './src/core', from: UPPER_LAYERS, message: 'src/core must not depend on the layers above it.' }]
      }],
      'no-restricted-imports': ['error', {
        paths: [{ name: 'node-seal', message: 'Only src/core/he may import node-seal.' }],
        patterns: [{ group: ['node-seal/*'], message: 'Only src/core/he may import node-seal.' }]
      }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }]
    }
  },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts', 'src/core/**/test-fixtures.ts'],
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
    // Tests of the core may read the real model files from disk.
    files: ['src/**/*.test.ts', 'src/**/test-fixtures.ts'],
    rules: { 'import-x/no-restricted-paths': 'off' }
  },
  {
    files: ['src/ui/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules
  }
)
