/**
 * `npm run serve:widget`: serve the built widget (dist/widget, `npm run build:widget`) and
 * the default model to pages of any origin, and print the tag to paste into one.
 *
 *   node scripts/serve-widget.ts [--port 5180] [--host 127.0.0.1] [--relay MULTIADDR]
 *
 * Without --relay it asks a running `npm start` (http://127.0.0.1:5173/cerberus.json) for
 * its relay, so the printed snippet works as is. Ctrl-C stops it.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { defaultModelDir } from '../src/node/model-files.ts'
import { startWidgetServer } from '../src/node/widget-server.ts'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const WIDGET_DIR = join(ROOT, 'dist', 'widget')
/** Where `npm start` serves /cerberus.json by default. */
const APP_CONFIG_URL = `http://127.0.0.1:${process.env.CERBERUS_PORT ?? '5173'}/cerberus.json`

const { values } = parseArgs({ options: { port: { type: 'string', default: '5180' }, host: { type: 'string', default: '127.0.0.1' }, relay: { type: 'string' } } })
const port = Number(values.port)
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be a port number (0-65535), got "${values.port}"\n`)
  process.exit(1)
}
if (!existsSync(join(WIDGET_DIR, 'cerberus-chat.js'))) {
  process.stderr.write('dist/widget/cerberus-chat.js is missing: run "npm run build:widget" first.\n')
  process.exit(1)
}

async function relayOfRunningApp (): Promise<string | undefined> {
  try {
    const r = await fetch(APP_CONFIG_URL, { signal: AbortSignal.timeout(2000) })
    return r.ok ? ((await r.json()) as { relay?: string }).relay : undefined
  } catch {
    return undefined
  }
}

let server
try {
  server = await startWidgetServer({ widgetDir: WIDGET_DIR, modelDir: defaultModelDir(), host: values.host, port })
} catch (err) {
  const msg = (err as Error).message
  process.stderr.write(/EADDRINUSE/.test(msg) ? `port ${port} is already in use; pick another with --port\n` : `could not serve the widget: ${msg}\n`)
  process.exit(1)
}
const relay = values.relay ?? await relayOfRunningApp()
process.stdout.write(`The widget is served at ${server.scriptUrl}. Paste this into a page of any origin:

  <script type="module" src="${server.scriptUrl}"></script>
  <cerberus-chat relay="${relay ?? '/ip4/…/tcp/…/ws/p2p/…'}"></cerberus-chat>
${relay === undefined ? '\n(No relay found at ' + APP_CONFIG_URL + ': start "npm start", or "npx cerberus relay" and pass its address with --relay.)\n' : ''}`)
const stop = (): void => { void server.close().then(() => process.exit(0)) }
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
