/**
 * The encrypted matvec is exact in Chromium too: SEAL (WebAssembly) in a Web Worker, for
 * every benchmark shape including 4096×4096, each result equal to the int8 matvec.
 */
import { expect, test } from '@playwright/test'
import type { HeBenchReport } from '../src/bench/he-bench.ts'

test('encrypted matvec equals the int8 matvec in Chromium for every benchmark shape', async ({ page }) => {
  test.setTimeout(240_000)
  await page.goto('/bench.html?bench=he&reps=1&shapes=64x64,768x768,3072x768,768x3072,4096x4096')
  const handle = await page.waitForFunction(() => window.cerberusBench, undefined, { timeout: 230_000 })
  const result = await handle.jsonValue() as { report?: HeBenchReport, error?: string }
  expect(result.error).toBeUndefined()
  const report = result.report as HeBenchReport
  expect(report.runtime).toBe('chromium')
  expect(report.shapes.map(s => `${s.dOut}x${s.dIn}:${String(s.exact)}`)).toEqual(['64x64:true', '768x768:true', '3072x768:true', '768x3072:true', '4096x4096:true'])
  for (const s of report.shapes) {
    expect(s.bytesUp).toBeGreaterThan(0)
    expect(s.params.noiseBudgetBits).toBeGreaterThanOrEqual(2)
  }
  await expect(page.getByText('HE matvec benchmark — chromium')).toBeVisible()
})
