/**
 * The processes the chaos benchmark torments: one `cerberus relay` (restarted on the same
 * port with the same key file, so every address that names it stays valid) and headless
 * `cerberus miner --relay` processes, started and SIGKILLed at random — each start a new
 * identity, as a crashed miner that comes back is. All on 127.0.0.1.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCliProcess, type CliProcess } from './cli-process.ts'

/** A running miner process and the peer id it printed. */
export interface FleetMiner {
  readonly peerId: string
  readonly proc: CliProcess
}

/** The relay and the miners. */
export interface ChaosFleet {
  /** The relay's multiaddr (the same across restarts). */
  readonly relay: string
  /** Miners running now (ready, not killed). */
  readonly miners: readonly FleetMiner[]
  /** Miners being started now. */
  readonly starting: number
  readonly counts: { started: number, killed: number, relayRestarts: number }
  /** Start one more miner; resolves when it printed its ready line. */
  startMiner: () => Promise<FleetMiner>
  /** SIGKILL a miner (no goodbye: its streams die under the jobs they carry). */
  killMiner: (m: FleetMiner) => Promise<void>
  /** SIGKILL the relay and start it again on the same port with the same identity. */
  restartRelay: () => Promise<void>
  /** Stop everything. */
  stop: () => Promise<void>
}

/** Options of {@link startChaosFleet}. */
export interface ChaosFleetOptions {
  /** Worker threads per miner (default 1: four miners and a user share two cores here). */
  readonly workers?: number
  /** Miner announcement interval in ms (default the miner's own). */
  readonly announceIntervalMs?: number
}

/** Start the relay (no miners yet). */
export async function startChaosFleet (opts: ChaosFleetOptions = {}): Promise<ChaosFleet> {
  const dir = await mkdtemp(join(tmpdir(), 'cerberus-chaos-'))
  const keyFile = join(dir, 'relay.key')
  const relayArgs = (port: string): string[] => ['relay', '--port', port, '--health-port', '0', '--key-file', keyFile]
  const READY = /relay ready: (\S+)/
  let relayProc = await startCliProcess(relayArgs('0'), READY)
  const relay = relayProc.match[1]
  const port = /\/tcp\/(\d+)\//.exec(relay)?.[1] ?? '0'
  const miners: FleetMiner[] = []
  const all = new Set<CliProcess>([relayProc])
  let starting = 0
  let stopped = false
  const counts = { started: 0, killed: 0, relayRestarts: 0 }
  return {
    relay,
    get miners () { return miners },
    get starting () { return starting },
    counts,
    async startMiner () {
      starting++
      try {
        const args = ['miner', '--port', '0', '--workers', String(opts.workers ?? 1), '--relay', relay]
        if (opts.announceIntervalMs !== undefined) args.push('--announce-interval', String(opts.announceIntervalMs))
        const proc = await startCliProcess(args, /miner ready: \S*\/p2p\/(\w+)/)
        if (stopped) { await proc.stop('SIGKILL'); throw new Error('the fleet was stopped while this miner started') }
        all.add(proc)
        const m = { peerId: proc.match[1], proc }
        miners.push(m)
        counts.started++
        return m
      } finally {
        starting--
      }
    },
    async killMiner (m) {
      const i = miners.indexOf(m)
      if (i >= 0) miners.splice(i, 1)
      await m.proc.stop('SIGKILL')
      counts.killed++
    },
    async restartRelay () {
      await relayProc.stop('SIGKILL')
      all.delete(relayProc)
      relayProc = await startCliProcess(relayArgs(port), READY)
      all.add(relayProc)
      if (relayProc.match[1] !== relay) throw new Error(`the relay came back as ${relayProc.match[1]}, not ${relay}`)
      counts.relayRestarts++
    },
    async stop () {
      stopped = true
      await Promise.all([...all].map(async p => { await p.stop('SIGKILL') }))
      miners.length = 0
      await rm(dir, { recursive: true, force: true })
    }
  }
}
