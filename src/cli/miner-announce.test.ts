import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, describe, expect, it } from 'vitest'
import { startRelay, type Relay } from '../../signaling-server/relay.ts'
import { keepConnected } from '../net/dial.ts'
import { createPeerTable } from '../net/discovery/index.ts'
import { createPeer } from '../net/peer.ts'
import { DEFAULT_MODEL_FILES, defaultModelDir, PROJECT_ROOT } from '../node/model-files.ts'
import { main } from './main.ts'

const cleanup: Array<() => Promise<void> | void> = []
afterAll(async () => { for (const c of cleanup.reverse()) await c() })

async function until (cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not reached in ${ms} ms`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

describe('cerberus miner --relay', () => {
  it('announces itself through the relay (its /ws address, the checkpoint\'s SHA-256, workers), comes back after a relay restart, and is forgotten when it exits', async () => {
    const keyFile = join(mkdtempSync(join(tmpdir(), 'cerberus-miner-')), 'relay.key')
    let relay: Relay = await startRelay({ port: 0, healthPort: 0, keyFile })
    cleanup.push(async () => { await relay.stop() })
    const relayAddr = relay.multiaddrs[0]
    const port = Number(/\/tcp\/(\d+)\//.exec(relayAddr)?.[1])

    const miner = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'cerberus.js'), 'miner', '--port', '0', '--workers', '1', '--relay', relayAddr, '--announce-interval', '400'], { stdio: ['ignore', 'pipe', 'pipe'] })
    cleanup.push(() => { miner.kill('SIGKILL') })
    let err = ''
    miner.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const ready = await new Promise<string>((resolve, reject) => {
      let out = ''
      miner.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /^miner ready: (.+)\n/m.exec(out)
        if (m !== null) resolve(m[1])
      })
      miner.on('exit', code => { reject(new Error(`miner exited with ${code}: ${out} ${err}`)) })
    })
    const addrs = ready.split(' ')
    const minerId = /\/p2p\/(\w+)$/.exec(addrs[0])?.[1] ?? ''

    const user = await createPeer()
    cleanup.push(async () => { await user.stop() })
    const table = createPeerTable(user, { forgetAfterMs: 1500 })
    cleanup.push(() => { table.stop() })
    const watch = keepConnected(user, multiaddr(relayAddr), { maxBackoffMs: 500 })
    cleanup.push(() => { watch.stop() })
    await until(() => table.get(minerId) !== undefined, 10_000, 'the user seeing the miner')
    const sha256 = createHash('sha256').update(readFileSync(join(defaultModelDir(), DEFAULT_MODEL_FILES.checkpoint))).digest('hex')
    expect(table.get(minerId)).toMatchObject({ role: 'miner', addrs, model: { name: 'stories260K', sha256 }, presets: ['n2048', 'n4096', 'n8192'], capacity: 1, load: 0 })
    expect(addrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\/12D3/)

    // the relay goes away and comes back (same identity, same port): the miner reconnects and is heard again
    await relay.stop()
    await until(() => table.get(minerId) === undefined, 5000, 'the miner forgotten while the relay is down')
    relay = await startRelay({ port, healthPort: 0, keyFile })
    await until(() => table.get(minerId) !== undefined, 15_000, 'the miner heard again after the relay restarted')
    expect(err).toMatch(/disconnected; reconnecting/)

    // the miner exits: forgotten
    miner.kill('SIGTERM')
    await until(() => table.get(minerId) === undefined, 5000, 'the miner forgotten after it exited')
  })

  it('refuses a relay address that is not a multiaddr or names no peer, and a bad interval', async () => {
    const run = async (...argv: string[]): Promise<string> => {
      let err = ''
      const code = await main(argv, { stdout: () => {}, stderr: t => { err += t } })
      expect(code).toBe(2)
      return err
    }
    expect(await run('miner', '--relay', 'relay.example.org')).toMatch(/--relay must be a multiaddr/)
    expect(await run('miner', '--relay', '/ip4/127.0.0.1/tcp/9090/ws')).toMatch(/--relay must end in \/p2p\//)
    expect(await run('miner', '--announce-interval', '5')).toMatch(/--announce-interval must be a whole number in \[100, 3600000\]/)
  })
})
