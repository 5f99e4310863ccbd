/**
 * End-to-end tests in real Chromium against exactly what `npm start` runs: the relay, a
 * headless miner and the Vite dev server (scripts/start.ts), on ports of their own.
 *
 * The browser is the system Chromium (Playwright never downloads one here): set
 * CERBERUS_CHROMIUM to use another binary. Run inside a loopback-only network namespace
 * so nothing can leave 127.0.0.1:
 *   unshare -n sh -c 'ip link set lo up && exec npx playwright test'
 */
import { defineConfig } from '@playwright/test'

/** Ports of the app and the relay the tests start (not the developer's usual 5173 and 9090). */
const port = Number(process.env.CERBERUS_E2E_PORT ?? 5791)
const relayPort = Number(process.env.CERBERUS_E2E_RELAY_PORT ?? 5793)
const baseURL = `http://127.0.0.1:${port}`

/**
 * Chromium flags measured to make WebRTC on loopback, WebGPU (SwiftShader) and
 * cross-origin isolation work together; see the shared ENVIRONMENT notes.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--enable-unsafe-webgpu'
]

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/artifacts',
  // One browser at a time: the machines running this have 2 cores.
  workers: 1,
  fullyParallel: false,
  forbidOnly: process.env.CI !== undefined,
  retries: 0,
  // Generous for a loaded 2-core box; a local greedy run of 60 tokens takes well under a second.
  timeout: 60_000,
  expect: { timeout: 20_000 },
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    navigationTimeout: 30_000,
    actionTimeout: 15_000
  },
  projects: [
    {
      name: 'chromium',
      use: {
        browserName: 'chromium',
        launchOptions: {
          executablePath: process.env.CERBERUS_CHROMIUM ?? '/usr/bin/chromium',
          args: CHROMIUM_ARGS
        }
      }
    }
  ],
  webServer: {
    // --no-watch: an edit elsewhere in the checkout must not reload a page under test
    command: `"${process.execPath}" scripts/start.ts --port ${port} --relay-port ${relayPort} --no-watch`,
    // start.ts prints this once the relay answers, its miner is ready and the page is served.
    wait: { stdout: /Cerberus is running at / },
    url: `${baseURL}/`,
    gracefulShutdown: { signal: 'SIGINT', timeout: 10_000 },
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe'
  }
})
