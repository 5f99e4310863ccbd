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
import { fileURLToPath } from 'node:url'
import { CerberusError } from '../core/errors.ts'
import { serveMeasuredProcess, spawnMeasuredProcess } from './measured-process.ts'

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
  const p = await spawnMeasuredProcess<{ addr: string, peerId: string, healthUrl: string }, RelayMemory>(SELF, { inboundConnectionThreshold: opts.inboundConnectionThreshold }, {
    what: 'the relay process',
    startTimeoutMs: opts.startTimeoutMs ?? 20_000,
    error: message => new RelayProcessError(message)
  })
  return {
    ...p.ready,
    pid: p.pid,
    get exitCode () { return p.exitCode },
    memory: p.memory,
    stop: p.stop
  }
}

/* The child. */
if (process.argv[1] === SELF) {
  const { startRelay } = await import('../../signaling-server/relay.ts')
  const opts = JSON.parse(process.argv[2] ?? '{}') as { inboundConnectionThreshold?: number }
  const relay = await startRelay({ port: 0, healthPort: 0, ...opts })
  serveMeasuredProcess({ addr: relay.multiaddrs[0], peerId: relay.peerId, healthUrl: relay.healthUrl }, () => {
    const m = process.memoryUsage()
    return { heapUsed: m.heapUsed, rss: m.rss, arrayBuffers: m.arrayBuffers }
  }, async () => { await relay.stop() })
}
