/**
 * Accessibility of the app: axe finds no serious or critical violation on the main page,
 * the settings and the donate panel (switched on too); the chat works from the keyboard
 * alone; and on a 390-px-wide phone nothing overflows horizontally.
 */
import AxeBuilder from '@axe-core/playwright'
import { expect, test, type Page } from '@playwright/test'

const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']

async function seriousViolations (page: Page, include?: string): Promise<string[]> {
  let builder = new AxeBuilder({ page }).withTags(WCAG)
  if (include !== undefined) builder = builder.include(include)
  const { violations } = await builder.analyze()
  return violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)
}

async function waitReady (page: Page): Promise<void> {
  await expect(page.getByRole('status', { name: 'Connection' })).toContainText('Private', { timeout: 90_000 })
}

/** Tab until `target` has focus (at most `max` presses); fails if it never does. */
async function tabTo (page: Page, isTarget: () => Promise<boolean>, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await isTarget()) return
    await page.keyboard.press('Tab')
  }
  throw new Error(`not reached with ${max} Tab presses`)
}

test('axe: the main page, the settings and the donate panel have no serious or critical violations', async ({ page }) => {
  test.setTimeout(150_000)
  await page.goto('/')
  await waitReady(page)
  expect(await seriousViolations(page)).toEqual([])
  expect(await seriousViolations(page, '[aria-labelledby="settings-heading"]')).toEqual([])
  const donate = page.getByRole('region', { name: 'Donate my GPU' })
  expect(await seriousViolations(page, '[aria-labelledby="donate-heading"]')).toEqual([])
  // and switched on (a real donor: this tab serves jobs now)
  const toggle = donate.getByRole('switch', { name: 'Donate' })
  await toggle.click()
  await expect(toggle).toHaveAttribute('aria-checked', 'true')
  await expect(donate.getByRole('status')).toContainText(/On|Starting/, { timeout: 60_000 })
  expect(await seriousViolations(page, '[aria-labelledby="donate-heading"]')).toEqual([])
  await toggle.click()
  await expect(toggle).toHaveAttribute('aria-checked', 'false', { timeout: 30_000 })
  // the dark scheme has its own colours: contrast checked there too
  await page.emulateMedia({ colorScheme: 'dark' })
  expect(await seriousViolations(page)).toEqual([])
  await page.screenshot({ path: 'test-results/a11y-dark.png' })
})

test('keyboard only: Tab to the prompt, Shift+Enter for a new line, Enter sends; focus is visible', async ({ page }) => {
  test.setTimeout(150_000)
  await page.goto('/')
  await waitReady(page)
  const box = page.getByRole('textbox', { name: 'Prompt' })
  // settings first, by keyboard: temperature 0 and 4 new tokens
  await tabTo(page, async () => await page.getByLabel('Temperature').evaluate(el => el === document.activeElement))
  await page.keyboard.press('ControlOrMeta+a')
  await page.keyboard.type('0')
  await tabTo(page, async () => await page.getByLabel('Max new tokens').evaluate(el => el === document.activeElement))
  await page.keyboard.press('ControlOrMeta+a')
  await page.keyboard.type('4')

  await page.keyboard.press('Shift+Tab') // leave the field, so the next search starts elsewhere
  await tabTo(page, async () => await box.evaluate(el => el === document.activeElement), 80)
  // the focus ring is drawn (keyboard focus: :focus-visible)
  expect(await box.evaluate(el => getComputedStyle(el).outlineStyle)).not.toBe('none')
  await page.keyboard.type('Once upon')
  await page.keyboard.press('Shift+Enter')
  await page.keyboard.type('a time')
  await expect(box).toHaveValue('Once upon\na time')
  await page.keyboard.press('Enter')
  await expect(page.getByRole('article', { name: 'Your prompt' })).toHaveText('Once upon\na time')
  await expect(page.getByRole('article', { name: 'Answer' }).getByRole('group', { name: 'Answer receipt' })).toBeVisible({ timeout: 120_000 })
  await expect(box).toHaveValue('')
  // a button reached by keyboard shows its focus too
  await tabTo(page, async () => await page.getByRole('button', { name: 'Regenerate' }).evaluate(el => el === document.activeElement), 80)
  expect(await page.getByRole('button', { name: 'Regenerate' }).evaluate(el => getComputedStyle(el).outlineStyle)).not.toBe('none')
})

test('a 390-px-wide phone: the panels stack and nothing overflows horizontally', async ({ page }) => {
  test.setTimeout(150_000)
  await page.setViewportSize({ width: 390, height: 844 })
  await page.goto('/')
  await waitReady(page)
  await page.getByLabel('Temperature').fill('0')
  await page.getByLabel('Max new tokens').fill('6')
  await page.getByRole('textbox', { name: 'Prompt' }).fill('Once upon a time')
  await page.getByRole('button', { name: 'Send' }).click()
  await expect(page.getByRole('article', { name: 'Answer' }).getByRole('group', { name: 'Answer receipt' })).toBeVisible({ timeout: 120_000 })

  const overflow = await page.evaluate(() => {
    const doc = document.documentElement
    const wide = [...document.querySelectorAll('body *')]
      .filter(el => el.getBoundingClientRect().right > doc.clientWidth + 0.5)
      .map(el => `${el.tagName.toLowerCase()}.${el.className}`)
    return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, wide: wide.slice(0, 10) }
  })
  expect(overflow.wide).toEqual([])
  expect(overflow.scrollWidth).toBeLessThanOrEqual(overflow.clientWidth)
  // stacked: the chat and the side panels share one column
  const chat = await page.getByRole('main').boundingBox()
  const side = await page.getByRole('complementary', { name: 'Settings and network' }).boundingBox()
  expect(chat !== null && side !== null && side.y >= chat.y + chat.height - 1).toBe(true)
  await page.screenshot({ path: 'test-results/phone-390.png', fullPage: true })
  await page.screenshot({ path: 'test-results/phone-390-top.png' })
})
