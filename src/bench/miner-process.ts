/**
 * A headless miner in a process of its own, for the soak benchmark: the same assembly as
 * `cerberus miner` (startMinerNode over a pool of worker threads, WebSockets on 127.0.0.1),
 * whose memory is its own to measure — the main thread's heap after a full GC, and each HE
 * worker's heap and memory outside it (SEAL's WebAssembly heap, which only ever grows, so
 * a leak of SEAL objects shows as growth there).
 *
 * Parent: `const miner = await spawnMinerProcess()`; `await miner.memory()`; `await miner.stop()`.
 * Child (this file run by Node with --expose-gc): prints one JSON line `{"ready":{…}}`, then
 * answers each line `memory` on stdin with `{"memory":{…}}`, and stops when stdin ends.
 */
import { fileURLToPath } from 'node:url'
import { CerberusError } from '../core/errors.ts'
import type { MinerServiceStats } from '../net/miner-service.ts'
import { serveMeasuredProcess, spawnMeasuredProcess } from './measured-process.ts'

/** The miner process failed to start, or died. */
export class MinerProcessError extends CerberusError {
  constructor (message: string) {
    super('MINER_PROCESS', message)
  }
}

/** The miner process's memory, in bytes, and its service's counters. */
export interface MinerMemory {
  /** The main thread (libp2p, the service's queues and key sets) after a full GC. */
  readonly heapUsed: number
  readonly rss: number
  /** Per HE worker (its own report, after its own GC): its JS heap, SEAL's WebAssembly heap, all its memory outside the heap. */
  readonly workers: ReadonlyArray<{ readonly heapUsed: number, readonly wasmBytes: number, readonly external: number }>
  readonly stats: MinerServiceStats
}

/** A running miner process. */
export interface MinerProcess {
  /** Its /ws multiaddr. */
  readonly addr: string
  readonly pid: number
  memory: () => Promise<MinerMemory>
  stop: () => Promise<void>
}

const SELF = fileURLToPath(import.meta.url)

/** Start a miner on 127.0.0.1 (a free port) with `workers` HE workers, in a child process. @throws {MinerProcessError} */
export async function spawnMinerProcess (opts: { workers?: number, startTimeoutMs?: number } = {}): Promise<MinerProcess> {
  const p = await spawnMeasuredProcess<{ addr: string }, MinerMemory>(SELF, { workers: opts.workers ?? 1 }, {
    what: 'the miner process',
    startTimeoutMs: opts.startTimeoutMs ?? 60_000,
    error: message => new MinerProcessError(message)
  })
  return { addr: p.ready.addr, pid: p.pid, memory: p.memory, stop: p.stop }
}

/* The child: what `cerberus miner` assembles, without a relay. */
if (process.argv[1] === SELF) {
  const { workers } = JSON.parse(process.argv[2] ?? '{}') as { workers: number }
  const { generateKeyPair } = await import('@libp2p/crypto/keys')
  const { squeezeModel } = await import('../core/squeeze/index.ts')
  const { MINER_SQUEEZE, startMinerNode } = await import('../app/index.ts')
  const { createPeer } = await import('../net/peer.ts')
  const { createMinerPool } = await import('../workers/index.ts')
  const { spawnNodeHeWorker } = await import('../workers/he-port.node.ts')
  const { loadModelFiles } = await import('../node/model-files.ts')
  const model = await loadModelFiles()
  const pool = createMinerPool({ spawn: () => spawnNodeHeWorker(), size: workers })
  const privateKey = await generateKeyPair('Ed25519')
  const peer = await createPeer({ listenPort: 0, privateKey })
  const miner = await startMinerNode({
    model: { name: model.name, sha256: model.sha256, squeezed: squeezeModel(model.ckpt, MINER_SQUEEZE) },
    privateKey,
    relays: [],
    capacity: workers,
    addrs: () => peer.getMultiaddrs().map(String).filter(a => a.includes('/ws/'))
  }, { peer, compute: pool })
  const addr = peer.getMultiaddrs().map(String).find(a => a.includes('/ws/')) ?? ''
  serveMeasuredProcess({ addr }, async () => {
    const m = process.memoryUsage()
    return { heapUsed: m.heapUsed, rss: m.rss, workers: await pool.memory(), stats: miner.service.stats }
  }, async () => {
    await miner.stop()
    await peer.stop()
    pool.close()
  })
}
