/**
 * Run a benchmark in Chromium: start the Vite dev server on a loopback port, open
 * bench.html in headless Chromium (Playwright, the system browser), wait for the report.
 */
import { chromium, type Browser } from '@playwright/test'
import { createServer } from 'vite'
import type { HeBenchReport } from './he-bench.ts'
import type { EngineBenchReport } from './engine-bench.ts'
import type { GpuBenchReport } from './gpu-bench.ts'
import { PROJECT_ROOT } from '../node/model-files.ts'
import { CerberusError } from '../core/errors.ts'

/** The browser benchmark could not run. */
export class BrowserBenchError extends CerberusError {
  constructor (message: string) {
    super('BROWSER_BENCH', message)
  }
}

/** Flags measured to work here (see docs/01-setup.md): loopback only, no background traffic. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream', '--enable-unsafe-webgpu']

/** A Vite dev server for bench.html and a headless Chromium, both on loopback. */
export interface BenchBrowser {
  /** e.g. http://127.0.0.1:41234 */
  readonly origin: string
  readonly browser: Browser
  close: () => Promise<void>
}

/** Start the dev server and Chromium (close both with `close`); `args` replaces {@link CHROMIUM_ARGS}. */
export async function openBenchBrowser (args: readonly string[] = CHROMIUM_ARGS): Promise<BenchBrowser> {
  const server = await createServer({ root: PROJECT_ROOT, configFile: `${PROJECT_ROOT}/vite.config.ts`, server: { port: 0, host: '127.0.0.1', strictPort: false }, logLevel: 'error' })
  await server.listen()
  const address = server.httpServer?.address()
  if (address === null || address === undefined || typeof address === 'string') {
    await server.close()
    throw new BrowserBenchError('the dev server has no address')
  }
  const browser = await chromium.launch({ executablePath: process.env.CERBERUS_CHROMIUM ?? '/usr/bin/chromium', args: [...args] }).catch(async (err: Error) => {
    await server.close()
    throw new BrowserBenchError(`cannot start Chromium (${err.message.split('\n')[0]}); install it (apt-get install -y chromium) or set CERBERUS_CHROMIUM`)
  })
  return {
    origin: `http://127.0.0.1:${address.port}`,
    browser,
    async close () {
      await browser.close()
      await server.close()
    }
  }
}

/** Run a benchmark in Chromium; `query` is bench.html's query string. */
export async function runBrowserBench (query: URLSearchParams, opts: { timeoutMs?: number, onProgress?: (line: string) => void, args?: readonly string[] } = {}): Promise<HeBenchReport | EngineBenchReport | GpuBenchReport> {
  const { origin, browser, close } = await openBenchBrowser(opts.args)
  try {
    const page = await browser.newPage()
    let seen = ''
    const poll = setInterval(() => {
      void page.locator('#report').textContent().then(t => {
        const lines = (t ?? '').split('\n').filter(l => l.includes('ms'))
        const last = lines[lines.length - 1]
        if (last !== undefined && last !== seen && !last.startsWith('|')) { seen = last; opts.onProgress?.(last) }
      }).catch(() => {})
    }, 500)
    await page.goto(`${origin}/bench.html?${query.toString()}`)
    const handle = await page.waitForFunction(() => window.cerberusBench, undefined, { timeout: opts.timeoutMs ?? 600_000 })
    clearInterval(poll)
    const result = await handle.jsonValue() as { report?: HeBenchReport | EngineBenchReport | GpuBenchReport, error?: string }
    if (result.report === undefined) throw new BrowserBenchError(`the benchmark failed in Chromium: ${result.error ?? 'no report'}`)
    return result.report
  } finally {
    await close()
  }
}
