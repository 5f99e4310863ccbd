/**
 * The `<cerberus-chat>` widget, built as its own bundle and embedded with one script tag
 * in a page of ANOTHER origin (http://localhost:H, while the widget, its worker, SEAL's
 * .wasm and the model come from http://127.0.0.1:W), with a real relay process and a real
 * headless Node miner that announces itself on the relay: the visitor's browser starts the
 * HE worker, finds the miner, and streams a private greedy answer that is exactly the
 * w8a8 engine's text. Also: the widget's styles and the page's do not cross, the widget
 * works from the keyboard and passes axe, and a missing or unreachable relay is said
 * plainly.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import AxeBuilder from '@axe-core/playwright'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect, test, type Page } from '@playwright/test'
import { encode, parseTokenizer } from '../src/core/model/index.ts'
import { DEFAULT_MODEL_FILES, defaultModelDir } from '../src/node/model-files.ts'
import { startWidgetServer, type WidgetServer } from '../src/node/widget-server.ts'
import { killCliProcesses, startCli, w8a8Text } from './support/cli.ts'

const BUILD_DIR = 'test-results/widget-build'
const SHOTS = 'test-results/widget'
const servers: Array<{ close: () => Promise<void> }> = []
let widget: WidgetServer

/** A page of another origin (localhost, not 127.0.0.1; another port), with its own styles. */
async function startHostPage (body: (q: URLSearchParams) => string): Promise<string> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname !== '/') { res.writeHead(404).end(); return }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
    res.end(body(url.searchParams))
  })
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  servers.push({ close: async () => { await new Promise<void>(resolve => { server.close(() => { resolve() }); server.closeAllConnections() }) } })
  return `http://localhost:${(server.address() as AddressInfo).port}/`
}

/** The host page: loud styles of its own, the widget's one script tag, the element. */
function hostHtml (q: URLSearchParams): string {
  const attrs = ['relay', 'temperature', 'max-tokens'].filter(a => q.has(a)).map(a => ` ${a}="${q.get(a)?.replace(/"/g, '&quot;')}"`).join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A host page</title>
<style>
  body { font: 18px/2 Georgia, serif; color: rgb(139, 0, 0); background: rgb(255, 250, 235); text-align: right; margin: 24px; }
  p { color: rgb(0, 100, 0); text-transform: uppercase; }
  button, textarea { background: rgb(255, 0, 255); border: 5px dashed rgb(0, 0, 255); }
  .frame, .send, .status { display: none !important; }
  cerberus-chat { margin-top: 16px; }
</style></head>
<body>
  <h1>Someone else's blog</h1>
  <p id="host-p">A host paragraph.</p>
  <button id="host-button" type="button">A host button</button>
  <script type="module" src="${widget.scriptUrl}"></script>
  <cerberus-chat${attrs}></cerberus-chat>
</body></html>`
}

test.beforeAll(async () => {
  test.setTimeout(120_000)
  execFileSync(join('node_modules', '.bin', 'vite'), ['build', '-c', 'vite.widget.config.ts', '--outDir', BUILD_DIR, '--logLevel', 'error'], { stdio: ['ignore', 'ignore', 'inherit'] })
  widget = await startWidgetServer({ widgetDir: BUILD_DIR, modelDir: defaultModelDir(), host: '127.0.0.1' })
  servers.push(widget)
})

test.afterAll(async () => {
  killCliProcesses()
  for (const s of servers) await s.close()
})

/** The TCP port of a /ip4/…/tcp/PORT/ws/… multiaddr. */
function multiaddrPort (addr: string): string {
  return /\/tcp\/(\d+)\//.exec(addr)?.[1] ?? 'none'
}

async function styleOf (page: Page, selector: string, prop: string): Promise<string> {
  return await page.locator(selector).first().evaluate((e, p) => getComputedStyle(e).getPropertyValue(p), prop)
}

test('embedded on another origin: a streamed private answer, exactly the w8a8 text, styles isolated, keyboard and axe clean', async ({ page }) => {
  test.setTimeout(240_000)
  const prompt = 'Once upon a time'
  const maxTokens = 30
  const relay = (await startCli(['relay', '--port', '0'], /relay ready: (\S+)/)).match[1]
  await startCli(['miner', '--port', '0', '--workers', '1', '--relay', relay], /miner ready: (\S+)/)
  const host = await startHostPage(hostHtml)
  const requests: string[] = []
  page.on('request', r => { requests.push(r.url()) })
  page.on('worker', w => { requests.push(`worker ${w.url()}`) })
  const sockets: string[] = []
  page.on('websocket', ws => { sockets.push(ws.url()) })

  await page.goto(`${host}?${new URLSearchParams({ relay, temperature: '0', 'max-tokens': String(maxTokens) })}`)
  const chat = page.locator('cerberus-chat')
  await expect(chat.getByRole('status')).toHaveText(/^Ready: 1 miner online/, { timeout: 120_000 })

  // Loaded across origins: the page is localhost, everything of the widget is 127.0.0.1.
  const widgetOrigin = new URL(widget.scriptUrl).origin
  expect(new URL(host).origin).not.toBe(widgetOrigin)
  expect(requests).toContain(widget.scriptUrl)
  expect(requests.some(u => u.startsWith(`${widgetOrigin}/widget/assets/he.worker.web-`))).toBe(true)
  expect(requests.some(u => u.startsWith(`${widgetOrigin}/widget/assets/seal_throws-`) && u.endsWith('.wasm'))).toBe(true)
  expect(requests).toContain(`${widgetOrigin}/models/default/${DEFAULT_MODEL_FILES.checkpoint}`)
  // The HE worker (the keys) runs in this page, started through a same-origin blob: bootstrap.
  expect(requests.some(u => u.startsWith(`worker blob:${new URL(host).origin}/`))).toBe(true)
  // Nothing else was fetched from anywhere; the only sockets are libp2p's, to the relay and the miner.
  const pageBlob = `blob:${new URL(host).origin}/`
  expect(requests.filter(u => !u.startsWith(`${widgetOrigin}/`) && !u.startsWith(host) && !u.startsWith(pageBlob) && !u.startsWith(`worker ${pageBlob}`))).toEqual([])
  expect(sockets.length).toBeGreaterThan(0)
  expect(sockets.filter(u => !/^ws:\/\/127\.0\.0\.1:\d+\/?$/.test(u))).toEqual([])
  expect(sockets).toContain(`ws://127.0.0.1:${multiaddrPort(relay)}/`)

  // Styles: the page's rules reach nothing inside, the widget's reach nothing outside.
  expect(await styleOf(page, '#host-p', 'color')).toBe('rgb(0, 100, 0)')
  expect(await styleOf(page, '#host-p', 'text-transform')).toBe('uppercase')
  expect(await styleOf(page, '#host-button', 'background-color')).toBe('rgb(255, 0, 255)')
  expect(await styleOf(page, 'body', 'font-family')).toBe('Georgia, serif')
  expect(await page.evaluate(() => document.styleSheets.length)).toBe(1)
  const send = chat.getByRole('button', { name: 'Ask' })
  const box = chat.getByRole('textbox', { name: 'Your message' })
  await expect(chat.locator('.frame')).toBeVisible()
  expect(await send.evaluate(e => getComputedStyle(e).backgroundColor)).not.toBe('rgb(255, 0, 255)')
  expect(await box.evaluate(e => getComputedStyle(e).borderTopStyle)).not.toBe('dashed')
  expect(await chat.getByRole('status').evaluate(e => getComputedStyle(e).fontFamily)).not.toContain('Georgia')
  expect(await chat.getByRole('status').evaluate(e => getComputedStyle(e).textAlign)).not.toBe('right')
  expect(await chat.getByRole('status').evaluate(e => getComputedStyle(e).color)).not.toBe('rgb(139, 0, 0)')

  // Keyboard only: Tab to the conversation (scrollable, so focusable), Tab to the prompt box, type, Enter.
  await page.locator('#host-button').focus()
  await page.keyboard.press('Tab')
  await expect(chat.getByRole('log')).toBeFocused()
  await page.keyboard.press('Tab')
  await expect(box).toBeFocused()
  await page.keyboard.type(prompt)
  const answer = chat.locator('.more').last()
  // Count the answer's updates: streamed means many, not one at the end.
  await page.evaluate(() => {
    const w = window as unknown as { updates: number }
    w.updates = 0
    const log = document.querySelector('cerberus-chat')?.shadowRoot?.querySelector('.log')
    new MutationObserver((ms) => { w.updates += ms.filter(m => m.type === 'characterData' || (m.target as Element).classList?.contains('more')).length }).observe(log as Node, { subtree: true, childList: true, characterData: true })
  })
  const t0 = Date.now()
  await page.keyboard.press('Enter')
  await expect(chat.getByRole('button', { name: 'Stop' })).toBeEnabled()
  await expect(chat.locator('.receipt')).toHaveText(/^[\d.,]+ KiB sent, all encrypted; \d+ results verified by 1 miner$/, { timeout: 180_000 })
  const seconds = (Date.now() - t0) / 1000
  const text = await answer.textContent() ?? ''
  const tok = parseTokenizer(new Uint8Array(readFileSync(join(defaultModelDir(), DEFAULT_MODEL_FILES.tokenizer))), 512)
  const steps = encode(tok, prompt).length - 1 + maxTokens
  expect(prompt + text).toBe(w8a8Text(steps, prompt))
  // the widget's planner worker squeezed the model, but keeps no plan memo in the host page's storage
  expect((await page.evaluate(async () => await indexedDB.databases())).map(d => d.name)).not.toContain('cerberus-plans')
  expect(await page.evaluate(() => (window as unknown as { updates: number }).updates)).toBeGreaterThan(maxTokens / 2)
  const receipt = await chat.locator('.receipt').textContent() ?? ''
  const verified = Number(/; (\d+) results verified/.exec(receipt)?.[1])
  expect(verified).toBeGreaterThanOrEqual(maxTokens * 20) // stories260K: 5 layers × 4 encrypted groups per token and more
  console.log(`widget: ${maxTokens} tokens in ${seconds.toFixed(1)} s; ${receipt}`)
  await expect(box).toBeFocused()
  await expect(send).toBeDisabled() // empty prompt box
  await page.screenshot({ path: `${SHOTS}/embedded.png`, fullPage: true })

  // Stop from the keyboard (Esc) part-way through a long answer.
  await box.fill('The little dog')
  await page.keyboard.press('Enter')
  await expect(answer).not.toHaveText('') // a new turn: .last() is now its answer
  await expect.poll(async () => (await chat.locator('.more').last().textContent() ?? '').length, { timeout: 60_000 }).toBeGreaterThan(10)
  await page.keyboard.press('Escape')
  await expect(chat.locator('.turn').last()).toContainText('(stopped)')
  await expect(chat.getByRole('button', { name: 'Stop' })).toBeDisabled()
  await expect(box).toBeFocused()

  const axe = await new AxeBuilder({ page }).include('cerberus-chat').analyze()
  expect(axe.violations.map(v => `${v.id}: ${v.help}`)).toEqual([])
  await page.screenshot({ path: `${SHOTS}/stopped.png`, fullPage: true })
  // For a look: a phone-width page, and the dark scheme.
  await page.setViewportSize({ width: 360, height: 720 })
  await page.emulateMedia({ colorScheme: 'dark' })
  await page.screenshot({ path: `${SHOTS}/narrow-dark.png`, fullPage: true })
})

test('a missing relay attribute, and an unreachable relay, are said plainly; removing the element stops its worker', async ({ page }) => {
  test.setTimeout(90_000)
  const host = await startHostPage(hostHtml)
  await page.goto(host)
  const chat = page.locator('cerberus-chat')
  await expect(chat.getByRole('alert')).toHaveText(/^The relay attribute is missing: give the relay's multiaddr/)
  await expect(chat.getByRole('button', { name: 'Ask' })).toBeDisabled()

  // A relay address whose port nothing listens on (a port just closed).
  const probe = createServer()
  await new Promise<void>(resolve => { probe.listen(0, '127.0.0.1', resolve) })
  const port = (probe.address() as AddressInfo).port
  await new Promise<void>(resolve => { probe.close(() => { resolve() }) })
  const dead = `/ip4/127.0.0.1/tcp/${port}/ws/p2p/${peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()}`
  await chat.evaluate((e, r) => { e.setAttribute('relay', r) }, dead)
  await expect(chat.getByRole('alert')).toHaveText(`Cannot reach the relay at ${dead}. Check the relay attribute of <cerberus-chat> and that the relay is running.`, { timeout: 60_000 })
  await expect(chat.getByRole('status')).toHaveText('Not available.')
  await page.screenshot({ path: `${SHOTS}/unreachable.png`, fullPage: true })
  // Removing the element stops what it started: the HE worker goes away.
  expect(page.workers().length).toBe(1)
  await chat.evaluate((e) => { e.remove() })
  await expect.poll(() => page.workers().length, { timeout: 10_000 }).toBe(0)
})
