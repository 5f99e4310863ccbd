/**
 * The `<cerberus-chat>` widget on a page locked down by a strict Content-Security-Policy
 * (issue 16): `default-src 'none'`, and only what the README's snippet lists — the
 * widget's origin for its script (plus `'wasm-unsafe-eval'`: SEAL is WebAssembly), `blob:`
 * and the widget's origin for workers (the same-origin bootstrap of the HE worker, and the
 * worker script it imports), the widget's origin, the relay and the miner for connections;
 * no `'unsafe-inline'`, no `'unsafe-eval'`, no style source at all (the widget's styles are
 * a constructed stylesheet). The widget must work exactly as on an open page — the
 * streamed greedy answer is the w8a8 text — with no violation reported. And each
 * allowance is needed: without it, the widget says what the page's policy must allow.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import { encode, parseTokenizer } from '../src/core/model/index.ts'
import { DEFAULT_MODEL_FILES, defaultModelDir } from '../src/node/model-files.ts'
import { startWidgetServer, type WidgetServer } from '../src/node/widget-server.ts'
import { POLICY_BLOCKS } from '../src/widget/page-policy.ts'
import { killCliProcesses, startCli, w8a8Text } from './support/cli.ts'

const BUILD_DIR = 'test-results/widget-csp-build'
const servers: Array<{ close: () => Promise<void> }> = []
let widget: WidgetServer
let relay: string
let minerAddr: string

/** The TCP port of a /ip4/…/tcp/PORT/ws/… multiaddr. */
function wsOrigin (addr: string): string {
  return `ws://127.0.0.1:${/\/tcp\/(\d+)\//.exec(addr)?.[1] ?? 'none'}`
}

/**
 * What the README tells a host page to allow, for this widget origin, relay and miner;
 * `drop` leaves one allowance out.
 */
function strictPolicy (drop?: 'blob' | 'worker-origin' | 'wasm'): string {
  const w = widget.origin
  return [
    "default-src 'none'",
    `script-src ${w}${drop === 'wasm' ? '' : " 'wasm-unsafe-eval'"}`,
    `worker-src${drop === 'blob' ? '' : ' blob:'}${drop === 'worker-origin' ? '' : ` ${w}`}`,
    `connect-src ${w} ${wsOrigin(relay)} ${wsOrigin(minerAddr)}`
  ].join('; ')
}

/** A page of another origin (localhost, not 127.0.0.1) served with `policy`: no inline script or style of its own. */
async function startHostPage (policy: () => string): Promise<string> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname !== '/') { res.writeHead(404).end(); return }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': policy() })
    res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A locked-down page</title></head>
<body>
  <h1>A page with a strict Content-Security-Policy</h1>
  <script type="module" src="${widget.scriptUrl}"></script>
  <cerberus-chat relay="${relay}" temperature="0" max-tokens="${url.searchParams.get('max-tokens') ?? '16'}"></cerberus-chat>
</body></html>`)
  })
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  servers.push({ close: async () => { await new Promise<void>(resolve => { server.close(() => { resolve() }); server.closeAllConnections() }) } })
  return `http://localhost:${(server.address() as AddressInfo).port}/`
}

/** Every CSP violation the page and its workers report (console lines and securitypolicyviolation events). */
async function watchViolations (page: Page): Promise<string[]> {
  const seen: string[] = []
  page.on('console', m => { if (/Content.Security.Policy|Refused to/i.test(m.text())) seen.push(m.text()) })
  page.on('worker', w => { w.on('console', m => { if (/Content.Security.Policy|Refused to/i.test(m.text())) seen.push(`worker: ${m.text()}`) }) })
  await page.exposeFunction('reportViolation', (v: string) => { seen.push(v) })
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      void (window as unknown as { reportViolation: (v: string) => Promise<void> }).reportViolation(`${e.violatedDirective} blocked ${e.blockedURI}`)
    })
  })
  return seen
}

test.beforeAll(async () => {
  test.setTimeout(180_000)
  execFileSync(join('node_modules', '.bin', 'vite'), ['build', '-c', 'vite.widget.config.ts', '--outDir', BUILD_DIR, '--logLevel', 'error'], { stdio: ['ignore', 'ignore', 'inherit'] })
  widget = await startWidgetServer({ widgetDir: BUILD_DIR, modelDir: defaultModelDir(), host: '127.0.0.1' })
  servers.push(widget)
  relay = (await startCli(['relay', '--port', '0'], /relay ready: (\S+)/)).match[1]
  minerAddr = (await startCli(['miner', '--port', '0', '--workers', '1', '--relay', relay], /miner ready: (\S+)/)).match[1]
})

test.afterAll(async () => {
  killCliProcesses()
  for (const s of servers) await s.close()
})

test('under default-src \'none\' and only the snippet\'s allowances: a streamed private answer, exactly the w8a8 text, no violation', async ({ page }) => {
  test.setTimeout(240_000)
  const prompt = 'Once upon a time'
  const maxTokens = 16
  const host = await startHostPage(() => strictPolicy())
  const violations = await watchViolations(page)
  const response = await page.goto(`${host}?max-tokens=${maxTokens}`)
  expect(response?.headers()['content-security-policy']).toBe(strictPolicy())
  expect(strictPolicy()).not.toMatch(/'unsafe-inline'|'unsafe-eval'|\*/)
  const chat = page.locator('cerberus-chat')
  await expect(chat.getByRole('status')).toHaveText(/^(Ready: 1 miner online|Not available)/, { timeout: 120_000 })
  const problem = `${await chat.locator('.error').textContent() ?? ''}; violations: ${violations.join(' | ')}`
  await expect(chat.getByRole('status'), problem).toHaveText(/^Ready: 1 miner online/)
  // The widget's own styles applied (a constructed stylesheet needs no style-src).
  await expect(chat.locator('.frame')).toBeVisible()
  expect(await chat.locator('.frame').evaluate(e => getComputedStyle(e).borderTopStyle)).toBe('solid')

  const box = chat.getByRole('textbox', { name: 'Your message' })
  await box.fill(prompt)
  await box.press('Enter')
  await expect(chat.locator('.receipt')).toHaveText(/^[\d.,]+ KiB sent, all encrypted; \d+ results verified by 1 miner$/, { timeout: 180_000 })
  const text = await chat.locator('.more').last().textContent() ?? ''
  const tok = parseTokenizer(new Uint8Array(readFileSync(join(defaultModelDir(), DEFAULT_MODEL_FILES.tokenizer))), 512)
  expect(prompt + text).toBe(w8a8Text(encode(tok, prompt).length - 1 + maxTokens, prompt))
  expect(violations).toEqual([])
})

for (const [missing, drop, said] of [
  ['blob: in worker-src', 'blob', POLICY_BLOCKS.worker],
  ['the widget\'s origin in worker-src', 'worker-origin', POLICY_BLOCKS.unloaded],
  ['\'wasm-unsafe-eval\'', 'wasm', POLICY_BLOCKS.wasm]
] as const) {
  test(`without ${missing} the widget says what the page's policy must allow`, async ({ page }) => {
    test.setTimeout(120_000)
    const host = await startHostPage(() => strictPolicy(drop))
    await page.goto(host)
    await expect(page.locator('cerberus-chat').getByRole('alert')).toHaveText(said(widget.origin), { timeout: 90_000 })
  })
}
