/**
 * Private generation in Chromium: every linear layer of stories260K encrypted (SEAL in a
 * Web Worker), computed by the in-process miner code, verified, and the tokens are exactly
 * the w8a8 engine's.
 */
import { expect, test } from '@playwright/test'
import type { EngineBenchReport } from '../src/bench/engine-bench.ts'

test('encrypted generation in Chromium prints exactly the w8a8 tokens', async ({ page }) => {
  test.setTimeout(180_000)
  await page.goto('/bench.html?bench=engine&tokens=24')
  const handle = await page.waitForFunction(() => window.cerberusBench, undefined, { timeout: 170_000 })
  const result = await handle.jsonValue() as { report?: EngineBenchReport, error?: string }
  expect(result.error).toBeUndefined()
  const m = (result.report as EngineBenchReport).models[0]
  expect(m).toMatchObject({ model: 'stories260K', tokens: 24, tokensMatch: true })
  expect(m.bytesUpPerToken).toBeGreaterThan(0)
  expect(m.verifyShare).toBeLessThan(0.05)
  // the round-fused plan (issue 12): encrypted == its plaintext twin, 2L + 1 round trips
  expect(m.fused).toMatchObject({ tokensMatch: true, roundTripsPerToken: 11 })
  expect(m.prefill.logitsMatch).toBe(true)
})
