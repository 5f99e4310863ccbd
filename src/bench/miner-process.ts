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
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { CerberusError } from '../core/errors.ts'
import type { MinerServiceStats } from '../net/miner-service.ts'

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
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', SELF, JSON.stringify({ workers: opts.workers ?? 1 })], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const waiting: Array<(m: MinerMemory) => void> = []
  let exitCode: number | null = null
  const exited = new Promise<void>(resolve => {
    child.once('exit', (code, signal) => { exitCode = code ?? (signal === null ? -1 : 128); resolve() })
  })
  const ready = await new Promise<{ addr: string }>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new MinerProcessError('the miner process did not start in time')) }, opts.startTimeoutMs ?? 60_000)
    lines.on('line', line => {
      let m: { ready?: { addr: string }, memory?: MinerMemory }
      try { m = JSON.parse(line) } catch { return }
      if (m.ready !== undefined) { clearTimeout(timer); resolve(m.ready) }
      if (m.memory !== undefined) waiting.shift()?.(m.memory)
    })
    void exited.then(() => { clearTimeout(timer); reject(new MinerProcessError(`the miner process exited with ${exitCode} before it was ready`)) })
  })
  return {
    addr: ready.addr,
    pid: child.pid ?? -1,
    async memory () {
      if (exitCode !== null) throw new MinerProcessError(`the miner process has exited (${exitCode})`)
      const answer = new Promise<MinerMemory>(resolve => { waiting.push(resolve) })
      child.stdin?.write('memory\n')
      return await Promise.race([answer, exited.then(() => { throw new MinerProcessError(`the miner process exited (${exitCode})`) })])
    },
    async stop () {
      if (exitCode !== null) return
      child.stdin?.end()
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
      await exited
      clearTimeout(timer)
    }
  }
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
  const gc = (globalThis as { gc?: () => void }).gc
  const addr = peer.getMultiaddrs().map(String).find(a => a.includes('/ws/')) ?? ''
  process.stdout.write(JSON.stringify({ ready: { addr } }) + '\n')
  const input = createInterface({ input: process.stdin })
  input.on('line', line => {
    if (line.trim() !== 'memory') return
    void (async () => {
      gc?.()
      const m = process.memoryUsage()
      const ws = await pool.memory()
      process.stdout.write(JSON.stringify({ memory: { heapUsed: m.heapUsed, rss: m.rss, workers: ws, stats: miner.service.stats } }) + '\n')
    })()
  })
  input.on('close', () => {
    void (async () => {
      await miner.stop()
      await peer.stop()
      pool.close()
      process.exit(0)
    })()
  })
}
