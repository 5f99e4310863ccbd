/**
 * The page generates text locally, in a worker, with the default model.
 */
import { expect, test, type Page } from '@playwright/test'

/** karpathy/llama2.c run.c, stories260K + tok512, empty prompt, -t 0 -n 60. */
const RUN_C_GREEDY_60 = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high'

async function generate (page: Page, engine: string, steps: number): Promise<string> {
  await page.goto('/')
  await page.getByRole('textbox', { name: 'Prompt' }).fill('')
  await page.getByRole('spinbutton', { name: 'Steps' }).fill(String(steps))
  await page.getByRole('spinbutton', { name: 'Temperature' }).fill('0')
  await page.getByRole('combobox', { name: 'Engine' }).selectOption(engine)
  await page.getByRole('button', { name: 'Generate' }).click()
  await expect(page.getByRole('status')).toContainText('Done', { timeout: 45_000 })
  return await page.getByRole('log', { name: 'Output' }).innerText()
}

test('f32 greedy prints what run.c prints', async ({ page }) => {
  const text = await generate(page, 'f32', 60)
  expect(text.trim()).toBe(RUN_C_GREEDY_60)
  await expect(page.getByRole('status')).toContainText('60 tokens')
  await expect(page.getByRole('alert')).toHaveCount(0)
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true)
  await page.screenshot({ path: 'test-results/local-generate.png', fullPage: true })
})

test('w8a8 greedy starts like run.c', async ({ page }) => {
  const text = await generate(page, 'w8a8', 60)
  // W8A8 rounds weights and activations to int8: the text diverges from f32 later on.
  expect(text.trim().split(/\s+/).slice(0, 5).join(' ')).toBe('Once upon a time, there')
})

test('a file that is not a model is refused with the core\'s message', async ({ page }) => {
  await page.goto('/')
  const text = { mimeType: 'text/plain', buffer: Buffer.from('This is a text file, not a llama2.c checkpoint at all.\n') }
  await page.getByLabel('Checkpoint').setInputFiles({ name: 'notes.txt', ...text })
  await page.getByLabel('Tokenizer').setInputFiles({ name: 'tokenizer.txt', ...text })
  await page.getByRole('button', { name: 'Load model' }).click()
  await expect(page.getByRole('alert')).toContainText('not a llama2.c checkpoint')
  // The default model is still the one in use: generation still works.
  await page.getByRole('spinbutton', { name: 'Steps' }).fill('8')
  await page.getByRole('button', { name: 'Generate' }).click()
  await expect(page.getByRole('status')).toContainText('Done')
  await expect(page.getByRole('log', { name: 'Output' })).toContainText('Once upon a time')
})

test('Stop ends a run between tokens and keeps its text', async ({ page }) => {
  await page.goto('/')
  // 0 steps = the whole 512-token context: ~1.5 s of f32 here, time enough to press Stop.
  await page.getByRole('spinbutton', { name: 'Steps' }).fill('0')
  await page.getByRole('button', { name: 'Generate' }).click()
  const log = page.getByRole('log', { name: 'Output' })
  await expect(log).toContainText('Once upon a time')
  await page.getByRole('button', { name: 'Stop' }).click()
  await expect(page.getByRole('status')).toContainText('Stopped after')
  const stoppedAt = Number(/Stopped after (\d+) tokens/.exec(await page.getByRole('status').innerText())?.[1])
  expect(stoppedAt).toBeLessThan(512)
  expect((await log.innerText()).trim()).toMatch(/^Once upon a time/)
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled()
})
