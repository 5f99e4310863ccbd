import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, describe, expect, it } from 'vitest'
import { startRelay, type Relay } from '../../signaling-server/relay.ts'
import { DialError, dialWithRetry, keepConnected } from './dial.ts'
import { createPeer, type CerberusPeer } from './peer.ts'

const cleanup: Array<() => Promise<unknown>> = []
afterAll(async () => { for (const c of cleanup.reverse()) await c().catch(() => {}) })

async function until (cond: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`condition not met in ${ms} ms`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

describe('dialling', () => {
  it('a dial to nobody fails with a typed DialError after its retry, within the deadlines', async () => {
    const peer = await createPeer()
    cleanup.push(async () => { await peer.stop() })
    const t0 = Date.now()
    const err = await dialWithRetry(peer, multiaddr('/ip4/127.0.0.1/tcp/1/ws/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'), { timeoutMs: 1000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DialError)
    expect((err as DialError).code).toBe('DIAL_FAILED')
    expect(Date.now() - t0).toBeLessThan(5000)
  })

  it('keepConnected reconnects to the relay when it comes back (same key file, same port)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cerberus-dial-'))
    cleanup.push(async () => { await rm(dir, { recursive: true, force: true }) })
    const keyFile = join(dir, 'relay.key')
    let relay: Relay = await startRelay({ port: 0, healthPort: 0, keyFile })
    const addr = relay.multiaddrs[0]
    const port = Number(/tcp\/(\d+)/.exec(addr)?.[1])
    const peer: CerberusPeer = await createPeer()
    cleanup.push(async () => { await peer.stop() })
    const changes: boolean[] = []
    const watch = keepConnected(peer, multiaddr(addr), { maxBackoffMs: 500, onChange: c => { changes.push(c) } })
    cleanup.push(async () => { watch.stop() })
    await until(() => watch.connected, 10_000)
    await relay.stop()
    await until(() => !watch.connected, 10_000)
    relay = await startRelay({ port, healthPort: 0, keyFile })
    cleanup.push(async () => { await relay.stop() })
    expect(relay.multiaddrs[0]).toBe(addr) // the same identity and address
    await until(() => watch.connected, 15_000)
    expect(changes).toEqual([true, false, true])
    await until(() => relay.health().peers >= 1, 5000)
  })
})
