/**
 * "Donate my GPU" for real: a second tab (its own browser context, as another person's
 * browser would be) switches donating on and serves encrypted jobs, over WebRTC, for the
 * first tab's private answer. Its jobs counter rises, and the first tab's receipt lists
 * the donor among the miners that computed the answer. (The headless miner `npm start`
 * runs is there too; the scheduler spreads jobs over both.) This donor's browser has no
 * WebGPU (hidden before the page loads), so it computes on the CPU and says why;
 * donate-gpu.spec.ts is the same with WebGPU.
 */
import { expect, test } from '@playwright/test'
import { screenshotPath } from './support/screenshots.ts'

test('a donor tab serves jobs for a user tab; the receipt names it', async ({ browser, page }) => {
  test.setTimeout(240_000)
  const donorCtx = await browser.newContext()
  // A browser without WebGPU, as many still are.
  await donorCtx.addInitScript(() => { Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }) })
  const donor = await donorCtx.newPage()
  await donor.goto('/')
  const panel = donor.getByRole('region', { name: 'Donate my GPU' })
  await expect(panel.getByTestId('donor-device')).toHaveText('Not computing yet. WebGPU not detected: this tab will compute on the CPU (WebAssembly).')
  const toggle = panel.getByRole('switch', { name: 'Donate' })
  await expect(toggle).toBeEnabled({ timeout: 60_000 })
  await toggle.click()
  await expect(toggle).toHaveAttribute('aria-checked', 'true')
  await expect(panel.getByRole('status')).toHaveText('On: serving encrypted jobs.', { timeout: 90_000 })
  await expect(panel.getByTestId('donor-device')).toHaveText('Computing on CPU (WebAssembly): WebGPU not available.')
  const jobs = panel.getByTestId('donor-jobs')
  await expect(jobs).toHaveText('0')
  const donorId = await panel.getByTestId('donor-peer-id').getAttribute('title')
  expect(donorId).toMatch(/^12D3Koo/)

  // The user's tab sees two miners: the headless one and the donor.
  await page.goto('/')
  await page.getByLabel('Temperature').fill('0')
  await page.getByLabel('Max new tokens').fill('24')
  await expect(page.getByRole('status', { name: 'Connection' })).toHaveText('Private · 2 miners', { timeout: 90_000 })
  await page.getByRole('textbox', { name: 'Prompt' }).fill('Once upon a time')
  await page.getByRole('textbox', { name: 'Prompt' }).press('Enter')
  const receipt = page.getByRole('article', { name: 'Answer' }).getByRole('group', { name: 'Answer receipt' })
  await expect(receipt).toBeVisible({ timeout: 180_000 })
  await expect(receipt.locator('dt:text-is("Results rejected") + dd')).toHaveText('0')

  // The donor served some of them...
  await expect.poll(async () => Number(await jobs.innerText()), { timeout: 10_000 }).toBeGreaterThan(0)
  // ...and is in the receipt, reached over WebRTC.
  const receiptMiners = await receipt.getByRole('list', { name: 'Miners' }).locator('code').evaluateAll(els => els.map(e => e.getAttribute('title')))
  const network = page.getByRole('region', { name: 'Network' })
  const webrtcMiners = await network.locator('.peer-group:has(h3:text-matches("^Miners")) li.peer').evaluateAll(els => els
    .filter(li => li.textContent?.includes('WebRTC direct') === true)
    .map(li => li.querySelector('code')?.getAttribute('title')))
  expect(webrtcMiners).toEqual([donorId])
  expect(receiptMiners).toContain(donorId)

  await expect(panel.getByTestId('donor-last-device')).toHaveText('CPU')
  await expect(panel.getByTestId('donor-gpu-ms')).toHaveText('0 ms')

  // Wait for a throughput sample (every 2 s) so the chart has a line, then picture the panel.
  await expect(panel.locator('.sparkline-line, .sparkline-dot')).not.toHaveCount(0, { timeout: 10_000 })
  await panel.screenshot({ path: screenshotPath('donate.png') })
  await donor.screenshot({ path: 'test-results/donate-tab.png', fullPage: true })
  await page.screenshot({ path: 'test-results/donate-user-tab.png', fullPage: true })

  await toggle.click()
  await expect(panel.getByRole('status')).toHaveText('Off.', { timeout: 30_000 })
  await donorCtx.close()
})
