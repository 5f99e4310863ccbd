/**
 * A relay in a process of its own, for the relay fuzzer and the load benchmark: its memory
 * is its own to measure (after a full GC), its CPU is not shared with the hundreds of peers
 * that load it, and a crash shows as an exit.
 *
 * Parent: `const relay = await spawnRelayProcess()`; `await relay.memory()`; `await relay.stop()`.
 * Child (this file run by Node with --expose-gc): starts the relay, prints one JSON line
 * `{"ready":{…}}`, then answers each line `memory` on stdin with `{"memory":{…}}`, and stops
 * when stdin ends.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { CerberusError } from '../core/errors.ts'

/** The relay process failed to start, or died. */
export class RelayProcessError extends CerberusError {
  constructor (message: string) {
    super('RELAY_PROCESS', message)
  }
}

/** Options of {@link spawnRelayProcess}. */
export interface RelayProcessOptions {
  /** New inbound connections per second per host (see RelayOptions): raised for one-host loads. */
  readonly inboundConnectionThreshold?: number
  /** How long to wait for the relay to start (default 20 s). */
  readonly startTimeoutMs?: number
}

/** The relay process's memory after a full GC, in bytes. */
export interface RelayMemory {
  readonly heapUsed: number
  readonly rss: number
  /** Memory of ArrayBuffers and Buffers (outside the JS heap). */
  readonly arrayBuffers: number
}

/** A running relay process. */
export interface RelayProcess {
  readonly addr: string
  readonly peerId: string
  readonly healthUrl: string
  readonly pid: number
  /** The exit code once it has exited (null while it runs). */
  readonly exitCode: number | null
  /** Memory after a full garbage collection. */
  memory: () => Promise<RelayMemory>
  stop: () => Promise<void>
}

const SELF = fileURLToPath(import.meta.url)

/** Start a relay on 127.0.0.1 (free ports) in a child process. @throws {RelayProcessError} */
export async function spawnRelayProcess (opts: RelayProcessOptions = {}): Promise<RelayProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', SELF, JSON.stringify({ inboundConnectionThreshold: opts.inboundConnectionThreshold })], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const waiting: Array<(m: RelayMemory) => void> = []
  let exitCode: number | null = null
  const exited = new Promise<void>(resolve => {
    child.once('exit', (code, signal) => { exitCode = code ?? (signal === null ? -1 : 128); resolve() })
  })
  const ready = await new Promise<{ addr: string, peerId: string, healthUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new RelayProcessError('the relay process did not start in time')) }, opts.startTimeoutMs ?? 20_000)
    lines.on('line', line => {
      let m: { ready?: { addr: string, peerId: string, healthUrl: string }, memory?: RelayMemory }
      try { m = JSON.parse(line) } catch { return }
      if (m.ready !== undefined) { clearTimeout(timer); resolve(m.ready) }
      if (m.memory !== undefined) waiting.shift()?.(m.memory)
    })
    void exited.then(() => { clearTimeout(timer); reject(new RelayProcessError(`the relay process exited with ${exitCode} before it was ready`)) })
  })
  return {
    ...ready,
    pid: child.pid ?? -1,
    get exitCode () { return exitCode },
    async memory () {
      if (exitCode !== null) throw new RelayProcessError(`the relay process has exited (${exitCode})`)
      const answer = new Promise<RelayMemory>(resolve => { waiting.push(resolve) })
      child.stdin?.write('memory\n')
      return await Promise.race([answer, exited.then(() => { throw new RelayProcessError(`the relay process exited (${exitCode})`) })])
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

/* The child. */
if (process.argv[1] === SELF) {
  const { startRelay } = await import('../../signaling-server/relay.ts')
  const opts = JSON.parse(process.argv[2] ?? '{}') as { inboundConnectionThreshold?: number }
  const relay = await startRelay({ port: 0, healthPort: 0, ...opts })
  const gc = (globalThis as { gc?: () => void }).gc
  process.stdout.write(JSON.stringify({ ready: { addr: relay.multiaddrs[0], peerId: relay.peerId, healthUrl: relay.healthUrl } }) + '\n')
  const input = createInterface({ input: process.stdin })
  input.on('line', line => {
    if (line.trim() !== 'memory') return
    gc?.()
    const m = process.memoryUsage()
    process.stdout.write(JSON.stringify({ memory: { heapUsed: m.heapUsed, rss: m.rss, arrayBuffers: m.arrayBuffers } }) + '\n')
  })
  input.on('close', () => { void relay.stop().then(() => { process.exit(0) }) })
}
