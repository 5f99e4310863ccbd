/**
 * The production build (`npm run build`) works, not only the dev server: its workers find
 * SEAL's .wasm under the hashed name the build emitted (node-seal alone would ask for an
 * unhashed file that is not there). Built into test-results/, served by `vite preview`.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { preview, type PreviewServer } from 'vite'
import type { HeBenchReport } from '../src/bench/he-bench.ts'
import type { ClientRunResult } from '../src/bench/mesh-page.ts'
import { w8a8Text } from './support/cli.ts'

const OUT = 'test-results/app-build'
let server: PreviewServer
let origin: string

test.beforeAll(async () => {
  test.setTimeout(120_000)
  execFileSync(join('node_modules', '.bin', 'vite'), ['build', '--outDir', OUT, '--emptyOutDir', '--logLevel', 'error'], { stdio: ['ignore', 'ignore', 'inherit'] })
  server = await preview({ configFile: 'vite.config.ts', build: { outDir: OUT }, preview: { port: 0, host: '127.0.0.1', strictPort: false }, logLevel: 'error' })
  origin = `http://127.0.0.1:${(server.httpServer.address() as { port: number }).port}`
})
test.afterAll(async () => { await server?.close() })

test('the built app: the HE workers load SEAL and encrypted generation prints the w8a8 text', async ({ page }) => {
  test.setTimeout(120_000)
  await page.goto(`${origin}/bench.html?bench=he&reps=1&shapes=64x64`)
  const he = await (await page.waitForFunction(() => window.cerberusBench, undefined, { timeout: 60_000 })).jsonValue() as { report?: HeBenchReport, error?: string }
  expect(he.error).toBeUndefined()
  expect(he.report?.shapes.map(s => s.exact)).toEqual([true])
  await page.goto(`${origin}/bench.html?bench=helocal&steps=8`)
  const r = await (await page.waitForFunction(() => window.cerberusClient, undefined, { timeout: 60_000 })).jsonValue() as ClientRunResult
  expect(r.error).toBeUndefined()
  expect(r.texts?.[0]).toBe(w8a8Text(8))
  await page.goto(`${origin}/`)
  await expect(page.getByRole('heading', { name: 'Cerberus', level: 1 })).toBeVisible()
})
