/**
 * `npm start` as a user runs it: a real process on free ports, its one line, the page,
 * /cerberus.json, the relay's /health, a miner child; Ctrl-C stops every process it
 * started and frees every port. And a taken port is a one-line error naming the flag.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../src/node/model-files.ts'

const START = join(PROJECT_ROOT, 'scripts', 'start.ts')
const LINE = /^Cerberus is running at (http:\/\/127\.0\.0\.1:(\d+)\/)$/m

/** A port nothing listens on now (the OS picks it). */
async function freePort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>(resolve => { srv.listen(0, '127.0.0.1', resolve) })
  const addr = srv.address()
  await new Promise<void>(resolve => { srv.close(() => { resolve() }) })
  if (typeof addr !== 'object' || addr === null) throw new Error('no port')
  return addr.port
}

/** Two consecutive free ports (the relay's WebSockets and its /health). */
async function freePortPair (): Promise<number> {
  for (;;) {
    const p = await freePort()
    if (p < 65535 && await isFree(p + 1)) return p
  }
}

async function isFree (port: number): Promise<boolean> {
  const srv = createServer()
  return await new Promise<boolean>(resolve => {
    srv.once('error', () => { resolve(false) })
    srv.listen(port, '127.0.0.1', () => { srv.close(() => { resolve(true) }) })
  })
}

/** Live processes whose parent is `pid` (Linux /proc). */
function childrenOf (pid: number): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      // /proc/PID/stat: "pid (comm) state ppid …"; comm may contain spaces, so split after ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) out.push(Number(name))
    } catch { /* exited meanwhile */ }
  }
  return out
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

interface Started { proc: ChildProcess, stdout: () => string, stderr: () => string, exit: Promise<number | null> }

function startApp (args: string[], env: Record<string, string>): Started {
  const proc = spawn(process.execPath, [START, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d })
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => { err += d })
  const exit = new Promise<number | null>(resolve => { proc.once('exit', code => { resolve(code) }) })
  running.push(proc)
  return { proc, stdout: () => out, stderr: () => err, exit }
}

async function until (what: string, cond: () => boolean, ms: number, why: () => string): Promise<void> {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}: ${why()}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

const running: ChildProcess[] = []
const blockers: Server[] = []
afterEach(async () => {
  for (const p of running.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
  for (const b of blockers.splice(0)) await new Promise(resolve => { b.close(resolve) })
})

describe('npm start (scripts/start.ts)', () => {
  it('serves the app, /cerberus.json, the relay and a miner; SIGINT stops them all', async () => {
    const [port, relayPort] = [await freePort(), await freePortPair()]
    const app = startApp([], { CERBERUS_PORT: String(port), CERBERUS_RELAY_PORT: String(relayPort) })
    await until('the ready line', () => LINE.test(app.stdout()), 150_000, () => `stdout: ${app.stdout()}\nstderr: ${app.stderr()}`)
    // exactly one line on stdout
    expect(app.stdout()).toBe(`Cerberus is running at http://127.0.0.1:${port}/\n`)

    const page = await fetch(`http://127.0.0.1:${port}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<div id="root">')

    const config = await (await fetch(`http://127.0.0.1:${port}/cerberus.json`)).json() as { relay: string }
    expect(config.relay).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/${relayPort}/ws/p2p/12D3Koo\\w+$`))

    const health = await (await fetch(`http://127.0.0.1:${relayPort + 1}/health`)).json() as { status: string, peerId: string, peers: number }
    expect(health.status).toBe('ok')
    expect(config.relay.endsWith(`/p2p/${health.peerId}`)).toBe(true)
    // the local miner is connected to the relay (its ready line waits for that)
    expect(health.peers, `stderr: ${app.stderr()}`).toBeGreaterThanOrEqual(1)

    const pid = app.proc.pid as number
    const children = childrenOf(pid)
    expect(children.length).toBeGreaterThanOrEqual(1)

    app.proc.kill('SIGINT')
    expect(await app.exit).toBe(0)
    for (const c of children) expect(alive(c), `child ${c} still alive`).toBe(false)
    for (const p of [port, relayPort, relayPort + 1]) expect(await isFree(p), `port ${p} still taken`).toBe(true)
  })

  it('Ctrl-C during start-up (the miner still loading) stops everything too', async () => {
    const [port, relayPort] = [await freePort(), await freePortPair()]
    const app = startApp([], { CERBERUS_PORT: String(port), CERBERUS_RELAY_PORT: String(relayPort) })
    const pid = app.proc.pid as number
    await until('the miner child', () => childrenOf(pid).length > 0, 60_000, () => app.stderr())
    const children = childrenOf(pid)
    app.proc.kill('SIGINT')
    expect(await app.exit).toBe(0)
    expect(app.stdout()).toBe('')
    expect(app.stderr()).not.toContain('cerberus start:')
    for (const c of children) expect(alive(c), `child ${c} still alive`).toBe(false)
    for (const p of [port, relayPort, relayPort + 1]) expect(await isFree(p), `port ${p} still taken`).toBe(true)
  })

  it('a port in use: one line naming the port and how to change it, exit code 1', async () => {
    const [port, relayPort] = [await freePort(), await freePortPair()]
    const blocker = createServer()
    blockers.push(blocker)
    await new Promise<void>(resolve => { blocker.listen(relayPort, '127.0.0.1', resolve) })

    const app = startApp(['--no-miner'], { CERBERUS_PORT: String(port), CERBERUS_RELAY_PORT: String(relayPort) })
    expect(await app.exit).toBe(1)
    expect(app.stdout()).toBe('')
    expect(app.stderr()).toBe(`cerberus start: port ${relayPort} (the relay) is already in use; choose another with --relay-port or CERBERUS_RELAY_PORT\n`)

    const app2 = startApp(['--no-miner', '--port', String(relayPort)], { CERBERUS_RELAY_PORT: String(port) })
    expect(await app2.exit).toBe(1)
    expect(app2.stderr()).toBe(`cerberus start: port ${relayPort} (the app) is already in use; choose another with --port or CERBERUS_PORT\n`)
  })
})
