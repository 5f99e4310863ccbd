import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startRelay } from '../../signaling-server/relay.ts'
import { main } from '../cli/main.ts'
import { measureRelayLoad, RelayLoadError } from './relay-load.ts'

const cleanup: Array<() => Promise<void>> = []
afterAll(async () => { for (const c of cleanup.reverse()) await c() })

describe('the relay under load', () => {
  it('20 loopback peers each get a reservation from a relay in its own process; percentiles and the relay\'s memory', async () => {
    const r = await measureRelayLoad({ peers: 20, concurrency: 5 })
    expect(r).toMatchObject({ peers: 20, concurrency: 5, ok: 20, failed: 0, relayReservations: 20, errors: {} })
    expect(r.p50Ms).toBeGreaterThan(0)
    expect(r.p50Ms).toBeLessThanOrEqual(r.p90Ms)
    expect(r.p90Ms).toBeLessThanOrEqual(r.p99Ms)
    expect(r.p99Ms).toBeLessThanOrEqual(r.maxMs)
    expect(r.connectP50Ms).toBeLessThanOrEqual(r.p50Ms)
    expect(r.relayHeapMiB?.loaded).toBeGreaterThan(0)
    expect(r.relayRssMiB?.loaded).toBeGreaterThan(r.relayHeapMiB?.loaded ?? 0)
  })

  it('a burst of 32 peers at once all get through (the relay lets 64 handshakes be in progress, not libp2p\'s 10)', async () => {
    const r = await measureRelayLoad({ peers: 48, concurrency: 32, timeoutMs: 20_000 })
    expect(r.errors).toEqual({})
    expect(r.ok).toBe(48)
  })

  it('counts the peers a relay refuses: its default limit of 5 new connections a second from one host', async () => {
    const relay = await startRelay({ port: 0, healthPort: 0 })
    cleanup.push(async () => { await relay.stop() })
    const r = await measureRelayLoad({ peers: 20, concurrency: 20, relayAddr: relay.multiaddrs[0], healthUrl: relay.healthUrl, timeoutMs: 5000 })
    expect(r.ok).toBeGreaterThanOrEqual(1)
    expect(r.ok).toBeLessThan(20)
    expect(r.failed).toBe(20 - r.ok)
    expect(Object.values(r.errors).reduce((a, b) => a + b, 0)).toBe(r.failed)
    expect(r.relayReservations).toBe(r.ok)
  })

  it('cerberus bench relay prints the table and writes {"relay": …}', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'cerberus-relay-load-')), 'relay.json')
    let out = ''
    const code = await main(['bench', 'relay', '--peers', '6', '--json', json], { stdout: b => { out += String(b) }, stderr: () => {} })
    expect(code).toBe(0)
    expect(out).toMatch(/\| 6 \| 6 \| 6 \| 0 \|/)
    const report = JSON.parse(readFileSync(json, 'utf8'))
    expect(report.relay).toMatchObject({ peers: 6, ok: 6, failed: 0 })
    expect(report.relay.p99Ms).toBeGreaterThan(0)
    await expect(measureRelayLoad({ peers: 0 })).rejects.toBeInstanceOf(RelayLoadError)
  })
})
