/**
 * `npm start`: everything a user needs on one machine, in one process tree.
 *
 *   node scripts/start.ts [--port 5173] [--relay-port 9090] [--miner-workers 1] [--no-miner] [--validator] [--no-watch]
 *
 * 1. the signaling relay (signaling-server/relay.ts), WebSockets on --relay-port
 *    (CERBERUS_RELAY_PORT, default 9090), `/health` on the next port;
 * 2. one headless miner, as a child process (`bin/cerberus.js miner --port 0 --relay …`),
 *    so the chat works before any browser donates — the same command a volunteer runs;
 * 2b. with --validator, one validator (`bin/cerberus.js validator --relay …`), so the
 *    network panel shows standings. Off by default: a validator is a user that never stops
 *    asking (an answer of the chat's 64 tokens every ~30 s), which would take a share of a
 *    2-core machine from the user's own chat and from every e2e test; and one validator
 *    alone is not a median. It does not delay the ready line.
 * 3. the Vite dev server with the repository's vite.config.ts on --port (CERBERUS_PORT,
 *    default 5173), plus `GET /cerberus.json` telling the page the relay's multiaddr.
 *
 * When the relay's /health answers, the miner is ready and the page is served, it prints
 * exactly one line on stdout: `Cerberus is running at http://127.0.0.1:PORT/`. Other
 * messages go to stderr. SIGINT / SIGTERM stop the miner, the dev server and the relay, in
 * that order, and exit 0. A port in use is one line naming the port and the flag or
 * environment variable that changes it, and exit code 1.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer as createNetServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { ViteDevServer } from 'vite'
import { startRelay, type Relay } from '../signaling-server/relay.ts'
import { appConfigPlugin } from '../src/node/app-config-route.ts'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const HOST = '127.0.0.1'

/**
 * Bounds, and why.
 * - minerReadyMs: the miner loads and squeezes the model and starts its worker pool;
 *   ~2 s here, far more on a loaded 2-core machine running a browser beside it.
 * - stopGraceMs: a child that has not exited this long after SIGTERM is killed.
 */
const LIMITS = Object.freeze({ minerReadyMs: 120_000, stopGraceMs: 5_000 })

const USAGE = `Usage: npm start [-- --port 5173] [--relay-port 9090] [--miner-workers 1] [--no-miner] [--validator] [--no-watch]

  --port N            the app's port (env CERBERUS_PORT, default 5173)
  --relay-port N      the relay's WebSockets port; /health listens on N+1
                      (env CERBERUS_RELAY_PORT, default 9090)
  --miner-workers N   worker threads of the local miner (default 1)
  --no-miner          start no local miner (donor tabs and other miners still work)
  --validator         also start one validator (it checks the miners with known-answer
                      jobs and publishes their scores; see docs/06-mesh.md)
  --no-watch          do not watch the source files (no live reload; the e2e tests use
                      it so that an edit elsewhere in the checkout cannot reload a page
                      under test)
`

/** A failure with a one-line message for the user; exit code 1. */
class StartError extends Error {
  override readonly name = 'StartError'
}

interface StartOptions {
  readonly port: number
  readonly relayPort: number
  readonly miner: boolean
  readonly validator: boolean
  readonly minerWorkers: number
  readonly watch: boolean
}

function parsePort (value: string | undefined, fallback: number, source: string): number {
  if (value === undefined || value === '') return fallback
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new StartError(`${source} must be a port number (0-65535), got "${value}"`)
  return port
}

function parseOptions (argv: string[], env: NodeJS.ProcessEnv): StartOptions | null {
  let values
  try {
    values = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        'relay-port': { type: 'string' },
        'miner-workers': { type: 'string' },
        'no-miner': { type: 'boolean' },
        validator: { type: 'boolean' },
        'no-watch': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' }
      },
      strict: true
    }).values
  } catch (err) {
    throw new StartError(`${(err as Error).message}\n${USAGE}`)
  }
  if (values.help === true) return null
  const workers = values['miner-workers'] === undefined ? 1 : Number(values['miner-workers'])
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new StartError(`--miner-workers must be an integer from 1 to 64, got "${values['miner-workers']}"`)
  return {
    port: values.port !== undefined ? parsePort(values.port, 5173, '--port') : parsePort(env.CERBERUS_PORT, 5173, 'CERBERUS_PORT'),
    relayPort: values['relay-port'] !== undefined ? parsePort(values['relay-port'], 9090, '--relay-port') : parsePort(env.CERBERUS_RELAY_PORT, 9090, 'CERBERUS_RELAY_PORT'),
    miner: values['no-miner'] !== true,
    validator: values.validator === true,
    minerWorkers: workers,
    watch: values['no-watch'] !== true
  }
}

/**
 * Fail early, with the flag to change, when a port is taken. The servers themselves still
 * report EADDRINUSE (another program may take the port between this check and theirs).
 */
async function assertPortFree (port: number, what: string, remedy: string): Promise<void> {
  if (port === 0) return
  await new Promise<void>((resolve, reject) => {
    const probe = createNetServer()
    probe.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE'
        ? new StartError(`port ${port} (${what}) is already in use; choose another with ${remedy}`)
        : new StartError(`cannot listen on ${HOST}:${port} (${what}): ${err.message}`))
    })
    probe.listen(port, HOST, () => { probe.close(() => { resolve() }) })
  })
}

/** The relay multiaddr browsers dial: its WebSockets address with the peer id. */
function relayAddress (relay: Relay): string {
  const ws = relay.multiaddrs.find(a => a.includes('/ws/') && a.includes('/p2p/'))
  if (ws === undefined) throw new StartError(`the relay has no WebSockets address (${relay.multiaddrs.join(', ')})`)
  return ws
}

/**
 * Start `cerberus miner` connected to the relay. `ready` resolves once it prints its
 * address, and rejects (having killed it) if it exits or hangs before that.
 */
function startMiner (relay: string, workers: number): { child: ChildProcess, ready: Promise<void> } {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'cerberus.js'), 'miner', '--port', '0', '--workers', String(workers), '--relay', relay], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderrText = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    stderrText += chunk
    process.stderr.write(chunk.replace(/^(?=.)/gm, '[miner] '))
  })
  const ready = new Promise<void>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => { reject(new StartError(`the local miner did not start within ${LIMITS.minerReadyMs / 1000} s`)) }, LIMITS.minerReadyMs)
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (chunk: string) => {
      out += chunk
      if (/miner ready: /.test(out)) { clearTimeout(timer); resolve() }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      // The CLI's last words, less its "Run cerberus help" hint.
      const why = stderrText.split('\n').filter(l => l.trim() !== '' && !l.includes('for usage')).at(-1) ?? ''
      reject(new StartError(`the local miner exited before it was ready (${signal ?? `code ${code}`})${why === '' ? '' : `: ${why}`}`))
    })
  }).catch((err: unknown) => {
    child.kill('SIGKILL')
    throw err
  })
  return { child, ready }
}

/** Start `cerberus validator` connected to the relay; its messages go to stderr, prefixed. */
function startValidator (relay: string): ChildProcess {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'cerberus.js'), 'validator', '--relay', relay], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => { process.stderr.write(chunk.replace(/^(?=.)/gm, '[validator] ')) })
  return child
}

/** SIGTERM a child, SIGKILL it after the grace period; resolves when it has exited. */
async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  child.kill('SIGTERM')
  const timer = setTimeout(() => { child.kill('SIGKILL') }, LIMITS.stopGraceMs)
  await exited
  clearTimeout(timer)
}

/** GET `url` and check the status; a network error or other status is a StartError. */
async function expectOk (url: string, what: string): Promise<string> {
  let res
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(30_000) })
  } catch (err) {
    throw new StartError(`${what} at ${url} did not answer: ${(err as Error).message}`)
  }
  if (!res.ok) throw new StartError(`${what} at ${url} answered HTTP ${res.status}`)
  return await res.text()
}

async function main (): Promise<number> {
  const opts = parseOptions(process.argv.slice(2), process.env)
  if (opts === null) { process.stdout.write(USAGE); return 0 }

  await assertPortFree(opts.port, 'the app', '--port or CERBERUS_PORT')
  await assertPortFree(opts.relayPort, 'the relay', '--relay-port or CERBERUS_RELAY_PORT')
  if (opts.relayPort !== 0) await assertPortFree(opts.relayPort + 1, 'the relay\'s /health, relay port + 1', '--relay-port or CERBERUS_RELAY_PORT')

  // Everything started so far, stopped in reverse order on a signal or a failure.
  let relay: Relay | undefined
  let vite: ViteDevServer | undefined
  let miner: ChildProcess | undefined
  let validator: ChildProcess | undefined
  let stopping: Promise<void> | undefined
  const stopAll = async (): Promise<void> => {
    stopping ??= (async () => {
      if (validator !== undefined) await stopChild(validator)
      if (miner !== undefined) await stopChild(miner)
      if (vite !== undefined) await vite.close()
      if (relay !== undefined) await relay.stop()
    })()
    await stopping
  }
  let interrupted = false
  const signalled = new Promise<NodeJS.Signals>(resolve => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.on(sig, () => {
        // A second Ctrl-C while stopping: stop waiting.
        if (stopping !== undefined) { miner?.kill('SIGKILL'); validator?.kill('SIGKILL'); process.exit(130) }
        interrupted = true
        resolve(sig)
      })
    }
  })

  const startup = async (): Promise<string> => {
    try {
      relay = await startRelay({ port: opts.relayPort, host: HOST })
    } catch (err) {
      const msg = (err as Error).message
      throw /already in use/.test(msg) ? new StartError(`port ${opts.relayPort} (the relay, or its /health on the next port) is already in use; choose another with --relay-port or CERBERUS_RELAY_PORT`) : err
    }
    if (interrupted) return ''
    const relayAddr = relayAddress(relay)
    process.stderr.write(`relay: ${relayAddr} (health ${relay.healthUrl})\n`)

    const { createServer } = await import('vite')
    const started = opts.miner ? startMiner(relayAddr, opts.minerWorkers) : undefined
    miner = started?.child
    // If Vite fails first, the miner start still settles (and the miner is stopped below).
    started?.ready.catch(() => {})
    try {
      vite = await createServer({
        root: ROOT,
        configFile: join(ROOT, 'vite.config.ts'),
        logLevel: 'warn',
        clearScreen: false,
        server: { host: HOST, port: opts.port, strictPort: true, ...(opts.watch ? {} : { hmr: false, watch: null }) },
        plugins: [appConfigPlugin({ relay: relayAddr })]
      })
      await vite.listen()
    } catch (err) {
      const msg = (err as Error).message
      throw /already in use/.test(msg) ? new StartError(`port ${opts.port} (the app) is already in use; choose another with --port or CERBERUS_PORT`) : err
    }
    const address = vite.httpServer?.address()
    const port = typeof address === 'object' && address !== null ? address.port : opts.port
    const url = `http://${HOST}:${port}/`

    await expectOk(relay.healthUrl, 'the relay\'s /health')
    const page = await expectOk(url, 'the app')
    if (!page.includes('id="root"')) throw new StartError(`the app at ${url} did not serve the Cerberus page`)
    await started?.ready
    if (opts.validator) validator = startValidator(relayAddr)
    started?.child.once('exit', (code, sig) => {
      if (stopping === undefined) process.stderr.write(`the local miner stopped (${sig ?? `code ${code}`}); the app keeps running, and donor tabs can still serve\n`)
    })
    return url
  }

  try {
    // Ctrl-C during start-up stops what has started, without waiting for the rest.
    const up = startup()
    up.catch(() => {}) // settled below, or moot once interrupted
    const url = await Promise.race([up, signalled.then(() => null)])
    if (url !== null && !interrupted) {
      process.stdout.write(`Cerberus is running at ${url}\n`)
      await signalled
    }
    process.stderr.write('stopping\n')
    await stopAll()
    return 0
  } catch (err) {
    await stopAll()
    // failures caused by the interruption itself (a miner killed by the same Ctrl-C) are not errors
    if (interrupted) return 0
    throw err
  }
}

try {
  process.exitCode = await main()
} catch (err) {
  process.stderr.write(`cerberus start: ${err instanceof StartError ? err.message : (err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
}
// libp2p and Vite can leave timers behind after stop(); everything is closed by now.
process.exit()
