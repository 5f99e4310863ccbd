/**
 * The GPU multiply-accumulate is exact on onnxruntime-web's WebGPU EP in Chromium
 * (SwiftShader here: correctness, not speed), in a dedicated worker as a donor runs it:
 * known jobs on small insecure rings and one real 768×768 job, every word equal to the
 * WebAssembly kernel's, the start-up self-test passing, and onnxruntime's own log saying
 * every node of every session was placed on the WebGPU EP.
 */
import { expect, test, type Page } from '@playwright/test'
import type { GpuCheckCase, GpuCheckReport } from '../src/bench/gpu.worker.ts'

async function check (page: Page, cases: GpuCheckCase[], timeout: number): Promise<GpuCheckReport> {
  await page.goto(`/bench.html?bench=gpu&mode=check&cases=${encodeURIComponent(JSON.stringify(cases))}`)
  const handle = await page.waitForFunction(() => window.cerberusGpu, undefined, { timeout })
  const result = await handle.jsonValue() as { report?: GpuCheckReport, error?: string }
  expect(result.error).toBeUndefined()
  return result.report as GpuCheckReport
}

function expectAllOnWebGpu (report: GpuCheckReport, sessions: number): void {
  // One "All nodes placed on [WebGpuExecutionProvider]" per session, and no other EP named.
  expect(report.placement.filter(l => /All nodes placed on \[WebGpuExecutionProvider\]/.test(l))).toHaveLength(sessions)
  expect(report.placement.filter(l => !/WebGpuExecutionProvider/.test(l))).toEqual([])
}

test('small insecure rings: all residues q − 1 and mixed random ones, exact on the WebGPU EP', async ({ page }) => {
  test.setTimeout(180_000)
  const cases: GpuCheckCase[] = [
    { name: '50-bit q (insecure-n256), all q − 1', bits: 50, ring: 256, polyDegree: 256, chunks: 4, blocks: 3, fill: 'extreme' },
    { name: '58-bit q (insecure-n1024), all q − 1', bits: 58, ring: 1024, polyDegree: 64, chunks: 9, blocks: 2, fill: 'extreme' },
    { name: '54-bit q (n2048), 40 chunks, all q − 1', bits: 54, ring: 2048, polyDegree: 32, chunks: 40, blocks: 3, fill: 'extreme' },
    { name: '60-bit q (n4096), mixed', bits: 60, ring: 4096, polyDegree: 128, chunks: 5, blocks: 7, fill: 'mixed' },
    { name: '34-bit q (4 limbs), mixed', bits: 34, ring: 64, polyDegree: 64, chunks: 3, blocks: 2, fill: 'mixed' }
  ]
  const report = await check(page, cases, 170_000)
  expect(report.adapter).not.toBeNull()
  expect(report.selfTest).toMatchObject({ ok: true, backend: 'webgpu' })
  expect(report.cases.map(c => `${c.name}: ${String(c.exact)}${c.error ?? ''}`)).toEqual(cases.map(c => `${c.name}: true`))
  expectAllOnWebGpu(report, 1 + cases.length)
})

test('a real 768×768 job (N = 2048, 12 chunks × 24 blocks, 54-bit prime) is exact on the WebGPU EP', async ({ page }) => {
  // SwiftShader runs it in ~25 s on two cores; a GPU in milliseconds.
  test.setTimeout(300_000)
  const cases: GpuCheckCase[] = [{ name: '768×768', bits: 54, ring: 2048, polyDegree: 2048, chunks: 12, blocks: 24, fill: 'mixed' }]
  const report = await check(page, cases, 290_000)
  expect(report.cases[0]).toMatchObject({ exact: true, differ: 0, words: 24 * 2 * 2048 * 2 })
  expectAllOnWebGpu(report, 2)
})
