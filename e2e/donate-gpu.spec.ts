/**
 * "Donate my GPU" on the GPU: a donor tab whose browser has WebGPU (SwiftShader here, a
 * software adapter: correctness, not speed) runs the start-up self-test in each miner
 * worker, passes it, and computes its jobs' multiply-accumulate with onnxruntime-web's
 * WebGPU EP; a user tab's greedy answer is exactly the w8a8 text, no result is rejected by
 * her Freivalds checks, her receipt names the donor, and the donor's panel says "GPU" and
 * shows the GPU and CPU time of its last job. (The headless miner `npm start` runs serves
 * some of the jobs too; the scheduler spreads them over both.)
 *
 * Sized for SwiftShader: stories260K's jobs are tiny (64-wide: 1–3 chunks × 2–3 blocks at
 * N = 2048/4096, coefficient and packed plans), but SwiftShader takes 1.6–2.6 s per job of
 * the ~100-dispatch graph however small it is (`bench gpu --runtime chromium --shapes
 * 64x64,192x64`, median after a first run), and every donor job is on the answer's critical
 * path. So a one-token prompt and two new tokens: the donor still serves a share of the
 * jobs on the GPU, and the test stays under a minute and a half (60–84 s here).
 */
import { expect, test } from '@playwright/test'
import { w8a8Continuation } from './support/cli.ts'
import { screenshotPath } from './support/screenshots.ts'

const PROMPT = 'Once'
const NEW_TOKENS = 2

test('a donor tab computing on WebGPU serves a user tab: the w8a8 text, the donor in the receipt, "GPU" on its panel', async ({ browser, page }) => {
  test.setTimeout(240_000)
  const expected = w8a8Continuation(PROMPT, NEW_TOKENS)
  const donorCtx = await browser.newContext()
  const donor = await donorCtx.newPage()
  const donorConsole: string[] = []
  donor.on('console', m => { donorConsole.push(`${m.type()}: ${m.text()}`) })
  donor.on('pageerror', e => { donorConsole.push(`pageerror: ${e.message}`) })
  try {
    await donor.goto('/')
    const panel = donor.getByRole('region', { name: 'Donate my GPU' })
    const device = panel.getByTestId('donor-device')
    await expect(device).toContainText('WebGPU detected: when you start, each worker runs a GPU self-test')
    // The default budget, one worker: one GPU device, one self-test, one set of shader compilations.
    await expect(panel.getByLabel(/^CPU budget/)).toHaveValue('1')
    const toggle = panel.getByRole('switch', { name: 'Donate' })
    await expect(toggle).toBeEnabled({ timeout: 60_000 })
    const t0 = Date.now()
    await toggle.click()
    await expect(panel.getByRole('status')).toHaveText('On: serving encrypted jobs.', { timeout: 120_000 })
    const onMs = Date.now() - t0
    await expect(device).toHaveText(/^Computing on GPU \(webgpu: .+\): the self-test passed\./)
    const donorId = await panel.getByTestId('donor-peer-id').getAttribute('title')
    expect(donorId).toMatch(/^12D3Koo/)

    await page.goto('/')
    await page.getByLabel('Temperature').fill('0')
    await page.getByLabel('Max new tokens').fill(String(NEW_TOKENS))
    await expect(page.getByRole('status', { name: 'Connection' })).toHaveText('Private · 2 miners', { timeout: 90_000 })
    await page.getByRole('textbox', { name: 'Prompt' }).fill(PROMPT)
    const t1 = Date.now()
    await page.getByRole('textbox', { name: 'Prompt' }).press('Enter')
    const answer = page.getByRole('article', { name: 'Answer' }).last()
    const receipt = answer.getByRole('group', { name: 'Answer receipt' })
    await expect(receipt).toBeVisible({ timeout: 180_000 })
    console.log(`donor on (self-test included) in ${onMs} ms; answer in ${Date.now() - t1} ms`)
    await expect(answer.locator('.continuation')).toHaveText(expected)
    await expect(receipt.locator('dt:text-is("Results rejected") + dd')).toHaveText('0')
    const receiptMiners = await receipt.getByRole('list', { name: 'Miners' }).locator('code').evaluateAll(els => els.map(e => e.getAttribute('title')))
    expect(receiptMiners).toContain(donorId)

    // The donor's jobs ran on the GPU, and the panel says how long each part took.
    await expect.poll(async () => Number(await panel.getByTestId('donor-jobs').innerText()), { timeout: 10_000 }).toBeGreaterThan(0)
    await expect(panel.getByTestId('donor-last-device')).toHaveText('GPU')
    await expect(panel.getByTestId('donor-gpu-ms')).toHaveText(/^\d+(\.\d)? m?s$/)
    await expect(panel.getByTestId('donor-cpu-ms')).toHaveText(/^\d+(\.\d)? m?s$/)
    await expect(panel.getByTestId('donor-gpu-jobs')).toHaveText(/^([1-9]\d*) of \1$/)
    await expect(device).toContainText('Computing on GPU')
    await panel.screenshot({ path: screenshotPath('donate-gpu.png') })

    await toggle.click()
    await expect(panel.getByRole('status')).toHaveText('Off.', { timeout: 30_000 })
  } catch (err) {
    console.log(`donor console:\n${donorConsole.join('\n')}`)
    throw err
  } finally {
    await donorCtx.close()
  }
})
