/**
 * Local mode in the page ("Generate on this device"): the answer is computed in this tab,
 * in plaintext, in a Web Worker (not on the UI thread) — the same plan's plaintext twin as
 * the private pipeline, so a greedy answer is exactly the w8a8 text — and it is labelled as
 * such: nothing left the device. It needs no miner: with a relay that is not there, it
 * still answers.
 */
import { expect, test, type Page } from '@playwright/test'
import { w8a8Continuation } from './support/cli.ts'

const PROMPT = 'Once upon a time'
const NEW_TOKENS = 24

async function askLocally (page: Page, prompt: string): Promise<void> {
  await page.getByLabel('Temperature').fill('0')
  await page.getByLabel('Max new tokens').fill(String(NEW_TOKENS))
  await page.getByRole('checkbox', { name: 'Generate on this device' }).check()
  await expect(page.getByText('Nothing leaves this device; no encryption needed').first()).toBeVisible()
  const box = page.getByRole('textbox', { name: 'Prompt' })
  await box.fill(prompt)
  // only the model is needed: Send is enabled once it is loaded (no keys, relay or miner)
  await expect(page.getByRole('button', { name: 'Send' })).toBeEnabled({ timeout: 60_000 })
  await box.press('Enter')
}

async function expectLocalAnswer (page: Page, expected: string): Promise<void> {
  const answer = page.getByRole('article', { name: 'Answer' }).last()
  const receipt = answer.getByRole('group', { name: 'Answer receipt' })
  await expect(receipt).toBeVisible({ timeout: 60_000 })
  await expect(answer.locator('.continuation')).toHaveText(expected)
  await expect(receipt).toContainText('On this device')
  await expect(receipt).toContainText('local, nothing left this device')
  await expect(receipt).toContainText('Nothing leaves this device; no encryption needed')
  await expect(receipt).not.toContainText('ciphertext')
}

test('"Generate on this device": the w8a8 text, computed in a Web Worker, labelled local', async ({ page }) => {
  const expected = w8a8Continuation(PROMPT, NEW_TOKENS)
  await page.goto('/')
  await askLocally(page, PROMPT)
  await expectLocalAnswer(page, expected)
  // off the UI thread: the page started the local-generation worker
  expect(page.workers().some(w => w.url().includes('local.worker'))).toBe(true)
  await page.screenshot({ path: 'test-results/local-mode.png', fullPage: true })
})

test('with no miner reachable (a relay that is not there), a local answer still comes', async ({ page }) => {
  test.setTimeout(120_000)
  const expected = w8a8Continuation(PROMPT, NEW_TOKENS)
  await page.goto('/')
  const announced = await (await page.request.get('/cerberus.json')).json() as { relay: string }
  // the same relay identity on a port where nothing listens
  const dead = announced.relay.replace(/\/tcp\/\d+\//, '/tcp/1/')
  await page.getByLabel('Relay address').fill(dead)
  await page.getByRole('button', { name: 'Use this relay' }).click()
  await expect(page.getByRole('status', { name: 'Connection' })).not.toContainText('Private')
  await askLocally(page, PROMPT)
  await expectLocalAnswer(page, expected)
})
