import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, describe, expect, it } from 'vitest'
import { createPeer } from '../net/peer.ts'
import { fuzzRelay, RELAY_PROTOCOLS, RelayFuzzError } from './relay-fuzz.ts'
import { measureRelayLoad } from './relay-load.ts'
import { spawnRelayProcess, type RelayProcess } from './relay-process.ts'

/** Heap the relay may keep after 10,000 frames, after a full GC (measured: 1.5–9 MiB; 100,000 frames: 7.8). */
const MAX_HEAP_GROWTH_MIB = 16

let relay: RelayProcess | undefined
afterAll(async () => { await relay?.stop() })

describe('fuzzing the relay', () => {
  it('10,000 random and mutated frames (hop, gossipsub, identify, ping, both snapshots, unknown protocols, raw WebSocket): no crash, no hang, bounded heap; a fresh peer still gets a reservation', async () => {
    relay = await spawnRelayProcess({ inboundConnectionThreshold: 1_000_000 })
    // the frames must reach live handlers: the relay speaks every protocol the fuzzer aims at
    const probe = await createPeer()
    await probe.dial(multiaddr(relay.addr))
    let protocols: string[] = []
    for (let i = 0; i < 100 && !RELAY_PROTOCOLS.every(p => protocols.includes(p)); i++) {
      await new Promise(resolve => setTimeout(resolve, 50))
      protocols = (await probe.peerStore.get(probe.getPeers()[0])).protocols
    }
    await probe.stop()
    expect(protocols).toEqual(expect.arrayContaining([...RELAY_PROTOCOLS]))

    const before = await relay.memory()
    const r = await fuzzRelay({ relayAddr: relay.addr, healthUrl: relay.healthUrl, frames: 10_000, concurrency: 16, seed: 1 })
    const after = await relay.memory()
    const growthMiB = (after.heapUsed - before.heapUsed) / 2 ** 20
    console.log(`relay fuzz: ${r.frames} frames in ${r.seconds} s, slowest frame ${r.maxFrameMs} ms, slowest check ${r.maxCheckMs} ms, ${r.slowChecks} checks passed only when tried again ${JSON.stringify(r.checkRetries)}, heap ${(before.heapUsed / 2 ** 20).toFixed(1)} → ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB; ${JSON.stringify(r.targets)}`)

    expect(r.frames).toBe(10_000)
    expect(r.hangs).toBe(0)
    expect(r.checks).toBeGreaterThanOrEqual(10) // a ping and /health answered after every 1,000 frames
    expect(relay.exitCode).toBeNull()
    // every target was exercised, and the relay really parsed frames (answers as well as refusals)
    for (const t of ['hop', 'gossipsub', 'floodsub', 'identify', 'ping', 'announcements', 'scores', 'unsupported', 'raw-ws']) expect(Object.values(r.targets[t] ?? {}).reduce((a, b) => a + b, 0), t).toBeGreaterThan(100)
    expect((r.targets.hop.reply ?? 0) + (r.targets.hop['reply-open'] ?? 0)).toBeGreaterThan(50)
    expect(r.targets.hop.reset).toBeGreaterThan(500)
    expect(r.targets.ping.reply).toBeGreaterThan(100)
    expect(r.targets.unsupported.unsupported).toBeGreaterThan(100)
    expect(growthMiB).toBeLessThan(MAX_HEAP_GROWTH_MIB)

    const health = await (await fetch(relay.healthUrl)).json()
    expect(health.status).toBe('ok')
    const fresh = await measureRelayLoad({ peers: 2, concurrency: 1, relayAddr: relay.addr, healthUrl: relay.healthUrl, timeoutMs: 10_000 })
    expect(fresh.ok).toBe(2)
  }, 180_000)

  it('a relay that dies mid-run fails the liveness check (trying again tells slow from dead, it does not hide dead)', async () => {
    const doomed = await spawnRelayProcess()
    try {
      let killed = false
      const run = fuzzRelay({
        relayAddr: doomed.addr,
        healthUrl: doomed.healthUrl,
        frames: 60,
        concurrency: 2,
        deadlineMs: 1000,
        checkEvery: 20,
        checkAttempts: 2,
        seed: 2,
        only: ['ping'],
        onProgress: done => { if (done >= 25 && !killed) { killed = true; process.kill(doomed.pid, 'SIGKILL') } }
      })
      await expect(run).rejects.toThrow(RelayFuzzError)
      await expect(run).rejects.toThrow(/no longer answers within 1000 ms, 2 attempts/)
      expect(killed).toBe(true)
    } finally {
      await doomed.stop()
    }
  }, 60_000)
})
