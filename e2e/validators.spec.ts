/**
 * Validators, as a user sees them: beside `npm start`'s relay and honest miner, a lying
 * miner (`cerberus miner --tamper=flip`) and two validators (`cerberus validator`, real
 * processes). The chat's network panel shows the liar "failed validation" and avoided, the
 * honest miner "trusted" with the validators vouching, and the validators themselves.
 */
import { expect, test } from '@playwright/test'
import { killCliProcesses, startCli } from './support/cli.ts'

test.afterEach(() => { killCliProcesses('SIGKILL') })

test('the network panel shows each miner\'s standing from the validators: the liar failed and avoided, the honest miner trusted', async ({ page, baseURL }) => {
  test.setTimeout(180_000)
  const { relay } = await (await fetch(`${baseURL ?? ''}/cerberus.json`)).json() as { relay: string }
  const { match } = await startCli(['miner', '--port', '0', '--workers', '1', '--relay', relay, '--announce-interval', '1000', '--tamper=flip'], /miner ready: \S+\/p2p\/(\S+)/)
  const liar = match[1]
  // short visits, so that the validators score the miners within the test's time
  const validator = ['validator', '--relay', relay, '--interval', '500', '--tokens', '1-2', '--answers', '1-2', '--publish-interval', '2000']
  await Promise.all([startCli(validator, /validator ready: (\S+)/), startCli(validator, /validator ready: (\S+)/)])

  await page.goto('/')
  await expect(page.getByRole('status', { name: 'Connection' })).toContainText('Private', { timeout: 90_000 })
  const panel = page.getByRole('region', { name: 'Network' })
  const liarLine = panel.locator(`li[data-peer="${liar}"]`)
  await expect(liarLine.locator('[data-standing="failed"]')).toBeVisible({ timeout: 120_000 })
  await expect(liarLine).toContainText('failed validation')
  await expect(liarLine).toContainText(/avoided: 2 of 2 validators saw wrong results from it/)
  const honest = panel.locator('li[data-peer]').filter({ has: page.locator('[data-standing="trusted"]') })
  await expect(honest.first()).toContainText(/trusted.*validators? vouch for it/, { timeout: 60_000 })
  await expect(panel.getByRole('heading', { name: /Validators \(2\)/ })).toBeVisible()
  await page.screenshot({ path: 'test-results/validators-panel.png', fullPage: true })
})
