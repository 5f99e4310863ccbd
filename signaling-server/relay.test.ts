import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterAll, describe, expect, it } from 'vitest'
import { RelayError, startRelay, type Relay } from './relay.ts'

const cleanup: Array<() => Promise<void>> = []
afterAll(async () => { for (const c of cleanup.reverse()) await c() })

async function peer (listenViaRelay: boolean): Promise<Libp2p<{ identify: ReturnType<ReturnType<typeof identify>>, ping: ReturnType<ReturnType<typeof ping>> }>> {
  const node = await createLibp2p({
    addresses: { listen: listenViaRelay ? ['/p2p-circuit'] : [] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify(), ping: ping() }
  })
  cleanup.push(async () => { await node.stop() })
  return node as never
}

async function until (cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time')
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

describe('the relay', () => {
  let relay: Relay

  it('starts on loopback, answers /health, and relays a handshake between two peers', async () => {
    relay = await startRelay({ port: 0, healthPort: 0 })
    cleanup.push(async () => { await relay.stop() })
    expect(relay.multiaddrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\/12D3/)
    const res = await fetch(relay.healthUrl)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'ok', peerId: relay.peerId, peers: 0, reservations: 0 })
    expect((await fetch(relay.healthUrl.replace('/health', '/other'))).status).toBe(404)

    const a = await peer(true)
    const b = await peer(false)
    await a.dial(multiaddr(relay.multiaddrs[0]))
    await until(() => a.getMultiaddrs().some(m => m.toString().includes('/p2p-circuit')))
    expect(relay.health().reservations).toBe(1)
    const viaRelay = a.getMultiaddrs().find(m => m.toString().includes('/p2p-circuit'))
    expect(viaRelay).toBeDefined()
    const rtt = await b.services.ping.ping(viaRelay as never)
    expect(rtt).toBeGreaterThanOrEqual(0)
    const h = await (await fetch(relay.healthUrl)).json()
    expect(h.peers).toBe(2)
    expect(h.reservations).toBe(1)
  })

  it('keeps its identity in a key file', async () => {
    const keyFile = join(mkdtempSync(join(tmpdir(), 'cerberus-relay-')), 'relay.key')
    const r1 = await startRelay({ port: 0, healthPort: 0, keyFile })
    await r1.stop()
    const r2 = await startRelay({ port: 0, healthPort: 0, keyFile })
    expect(r2.peerId).toBe(r1.peerId)
    await r2.stop()
  })

  it('refuses a key file that is not a key, and a port in use, with clear errors', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'cerberus-relay-')), 'relay.key')
    writeFileSync(bad, 'not a key')
    await expect(startRelay({ port: 0, keyFile: bad })).rejects.toThrow(RelayError)
    await expect(startRelay({ port: 0, keyFile: bad })).rejects.toThrow(/is not a libp2p private key/)
    const blocker = createServer()
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
    const taken = (blocker.address() as { port: number }).port
    cleanup.push(async () => { await new Promise<void>(resolve => { blocker.close(() => { resolve() }) }) })
    await expect(startRelay({ port: 0, healthPort: taken })).rejects.toThrow(/health port \d+ is already in use/)
    await expect(startRelay({ port: taken, healthPort: 0 })).rejects.toThrow(/port \d+ is already in use|could not start/)
  })
})
