#!/usr/bin/env node
// The `cerberus` command. Cerberus needs Node >= 24 (node-seal 7 and libp2p 3 need
// WebAssembly GC, exnref and Promise.withResolvers; the CLI runs TypeScript directly with
// Node's type stripping). `npm install` brings Node 24 as the `node` devDependency, so when
// this file is started by an older Node it re-runs itself with that one.
// Kept as plain JavaScript so that Node 20 can parse it.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const major = Number(process.versions.node.split('.')[0])
if (major >= 24) {
  await import('../src/cli/run.ts')
} else {
  const here = dirname(fileURLToPath(import.meta.url))
  const bundled = join(here, '..', 'node_modules', 'node', 'bin', 'node')
  if (!existsSync(bundled)) {
    process.stderr.write(`cerberus: Node ${process.versions.node} is too old (Cerberus needs Node >= 24). Run "npm install" in ${join(here, '..')} (it brings Node 24), or install Node 24.\n`)
    process.exit(1)
  }
  const r = spawnSync(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' })
  process.exit(r.status ?? 1)
}
