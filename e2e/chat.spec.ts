/**
 * The chat, as a user meets it after `npm start` (playwright.config.ts starts exactly
 * that: relay, one headless miner, the app): a greedy private answer streams in and is
 * exactly the w8a8 engine's text, with a receipt of verified results; a reload keeps the
 * conversation; a file that is not a model is refused with its error where it was picked,
 * and the chat still works after; while another model loads, the model in use answers.
 */
import { expect, test, type Page } from '@playwright/test'
import { w8a8Continuation } from './support/cli.ts'
import { screenshotPath } from './support/screenshots.ts'

const PROMPT = 'Once upon a time'
const NEW_TOKENS = 12

// The page's console, printed when a test fails (what the client saw is the first clue).
const consoleLines: string[] = []
test.beforeEach(({ page }) => {
  consoleLines.length = 0
  page.on('console', m => { consoleLines.push(`${m.type()}: ${m.text()}`) })
  page.on('pageerror', e => { consoleLines.push(`pageerror: ${e.message}`) })
})
test.afterEach(({ page }, info) => {
  if (info.status !== info.expectedStatus) console.log(`page console of "${info.title}" (${page.url()}):\n${consoleLines.join('\n')}`)
})

async function setGreedy (page: Page, newTokens: number): Promise<void> {
  await page.getByLabel('Temperature').fill('0')
  await page.getByLabel('Max new tokens').fill(String(newTokens))
}

/** The plan memos the HE worker kept in IndexedDB (plan-store.web.ts): key and when written. */
async function planMemos (page: Page): Promise<Array<{ key: string, writtenAt: number }>> {
  return await page.evaluate(async () => await new Promise<Array<{ key: string, writtenAt: number }>>((resolve, reject) => {
    const open = indexedDB.open('cerberus-plans')
    open.onerror = () => { reject(open.error) }
    open.onsuccess = () => {
      const db = open.result
      const all = db.transaction('memos').objectStore('memos').getAll()
      all.onerror = () => { reject(all.error) }
      all.onsuccess = () => { db.close(); resolve((all.result as Array<{ key: string, writtenAt: number }>).map(m => ({ key: m.key, writtenAt: m.writtenAt }))) }
    }
  }))
}

async function waitReady (page: Page): Promise<void> {
  await expect(page.getByRole('status', { name: 'Connection' })).toContainText('Private', { timeout: 90_000 })
}

test('a greedy private answer is the w8a8 text, with a receipt; a reload keeps the conversation', async ({ page }) => {
  test.setTimeout(180_000)
  const expected = w8a8Continuation(PROMPT, NEW_TOKENS)
  await page.goto('/')
  // first-run progress: labelled progress bars, not spinners
  await expect(page.getByRole('list', { name: 'Getting ready' }).or(page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'Private' }))).toBeVisible()
  await setGreedy(page, NEW_TOKENS)
  await waitReady(page)
  await page.screenshot({ path: 'test-results/chat-empty.png', fullPage: true })
  // the planner worker squeezed the model and kept its plan searches, by model SHA-256 and options
  const memos = await planMemos(page)
  expect(memos.map(m => m.key)).toEqual([expect.stringMatching(/^[0-9a-f]{64}\/\{"v":1,"network":\{"name":"lan"/)])

  const box = page.getByRole('textbox', { name: 'Prompt' })
  await box.fill(PROMPT)
  await box.press('Enter')
  const answer = page.getByRole('article', { name: 'Answer' }).last()
  // it streams: some text shows before the receipt does
  await expect(answer.locator('.continuation')).not.toHaveText('', { timeout: 60_000 })
  const receipt = answer.getByRole('group', { name: 'Answer receipt' })
  await expect(receipt).toBeVisible({ timeout: 120_000 })
  await expect(answer.locator('.continuation')).toHaveText(expected)
  const verified = Number(await receipt.locator('dt:text-is("Results verified") + dd').innerText())
  expect(verified).toBeGreaterThan(0)
  await expect(receipt.locator('dt:text-is("Results rejected") + dd')).toHaveText('0')
  await expect(receipt).toContainText('all ciphertext')
  await expect(receipt.locator('dt:text-is("Where the time went") + dd')).toContainText(/encrypting and decrypting in this tab \d+ ms; waiting for the miners \(their compute and the network over \d+ round trips\)/)
  await expect(receipt.getByRole('list', { name: 'Miners' }).getByRole('listitem')).not.toHaveCount(0)
  await expect(page.getByRole('heading', { name: PROMPT, level: 2 })).toBeVisible()
  await page.screenshot({ path: 'test-results/chat-answer.png', fullPage: true })
  // for the README: the top of the page at a laptop's size
  await page.screenshot({ path: screenshotPath('chat.png'), clip: { x: 0, y: 0, width: 1280, height: 640 } })

  await page.reload()
  await expect(page.getByRole('article', { name: 'Your prompt' })).toHaveText(PROMPT)
  await expect(page.getByRole('article', { name: 'Answer' }).locator('.continuation')).toHaveText(expected)
  await expect(page.getByRole('group', { name: 'Answer receipt' })).toBeVisible()
  await expect(page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: new RegExp(`^${PROMPT}`) })).toBeVisible()
  // the settings were kept too
  await expect(page.getByLabel('Temperature')).toHaveValue('0')
  // the reloaded page planned from the kept memo: it searched nothing new, so nothing was written
  await waitReady(page)
  expect(await planMemos(page)).toEqual(memos)
})

test('a file that is not a model shows its error where it was picked; the chat still works', async ({ page }) => {
  test.setTimeout(180_000)
  await page.goto('/')
  await setGreedy(page, 4)
  await waitReady(page)
  const random = Buffer.alloc(4096)
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24
  await page.getByLabel('Model file').setInputFiles({ name: 'random.bin', mimeType: 'application/octet-stream', buffer: random })
  await page.getByLabel('Tokenizer file').setInputFiles({ name: 'tok.bin', mimeType: 'application/octet-stream', buffer: random })
  await page.getByRole('button', { name: 'Load model' }).click()
  const model = page.getByRole('region', { name: 'Model' })
  const alert = model.getByRole('alert')
  await expect(alert).toContainText('The model was not loaded')
  await expect(alert).toContainText('MODEL_FORMAT')
  await expect(alert).toContainText('The model you had is still in use')
  await model.screenshot({ path: 'test-results/chat-bad-model.png' })

  // still the default model, still answering
  await waitReady(page)
  await page.getByRole('button', { name: 'New' }).click()
  await page.getByRole('textbox', { name: 'Prompt' }).fill(PROMPT)
  await page.getByRole('button', { name: 'Send' }).click()
  await expect(page.getByRole('article', { name: 'Answer' }).getByRole('group', { name: 'Answer receipt' })).toBeVisible({ timeout: 120_000 })
  await expect(page.getByRole('article', { name: 'Answer' }).locator('.continuation')).toHaveText(w8a8Continuation(PROMPT, 4))
})

test('Stop ends an answer and keeps its text; Regenerate answers again', async ({ page }) => {
  test.setTimeout(180_000)
  await page.goto('/')
  await setGreedy(page, 200)
  await waitReady(page)
  await page.getByRole('textbox', { name: 'Prompt' }).fill(PROMPT)
  await page.getByRole('textbox', { name: 'Prompt' }).press('Enter')
  const answer = page.getByRole('article', { name: 'Answer' }).last()
  await expect(answer.locator('.continuation')).not.toHaveText('', { timeout: 60_000 })
  await page.getByRole('button', { name: 'Stop' }).click()
  await expect(answer).toContainText('Stopped.')
  // the stopped answer keeps a receipt of what was done
  await expect(answer.getByRole('group', { name: 'Answer receipt' })).toContainText('Stopped after')
  const stopped = await answer.locator('.continuation').innerText()
  expect(w8a8Continuation(PROMPT, 200).startsWith(stopped.trim())).toBe(true)

  await page.getByLabel('Max new tokens').fill('3')
  await page.getByRole('button', { name: 'Regenerate' }).click()
  await expect(page.getByRole('article', { name: 'Answer' })).toHaveCount(1)
  await expect(page.getByRole('article', { name: 'Answer' }).getByRole('group', { name: 'Answer receipt' })).toBeVisible({ timeout: 120_000 })
  await expect(page.getByRole('article', { name: 'Answer' }).locator('.continuation')).toHaveText(w8a8Continuation(PROMPT, 3))
})

test('while another model loads, the model in use answers; then the switch completes', async ({ page }) => {
  test.setTimeout(180_000)
  await page.goto('/')
  await setGreedy(page, 6)
  await waitReady(page)
  // hold the new model's download until the answer is in (the switch is under way meanwhile)
  let release = (): void => {}
  const held = new Promise<void>(resolve => { release = resolve })
  await page.route('**/models/default/stories260K.bin', async route => { await held; await route.continue() })
  const model = page.getByRole('region', { name: 'Model' })
  await model.getByRole('radio', { name: 'The default model' }).check()
  await model.getByRole('button', { name: 'Load model' }).click()
  await expect(model).toContainText('Until the new model is ready, answers come from stories260K')

  await page.getByRole('textbox', { name: 'Prompt' }).fill(PROMPT)
  await page.getByRole('button', { name: 'Send' }).click()
  const answer = page.getByRole('article', { name: 'Answer' }).last()
  await expect(answer.getByRole('group', { name: 'Answer receipt' })).toBeVisible({ timeout: 120_000 })
  await expect(answer.locator('.continuation')).toHaveText(w8a8Continuation(PROMPT, 6))
  // the load was still waiting on its download: now it finishes, and the page is ready again
  await expect(model.getByRole('button', { name: 'Loading…' })).toBeVisible()
  release()
  await expect(model.getByRole('button', { name: 'Load model' })).toBeVisible({ timeout: 90_000 })
  await expect(model).not.toContainText('Until the new model is ready')
  await expect(model.getByRole('alert')).toHaveCount(0)
  await waitReady(page)
  await page.unroute('**/models/default/stories260K.bin')
})
