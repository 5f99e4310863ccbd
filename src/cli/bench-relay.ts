/**
 * `cerberus bench relay [--peers N] [--concurrency C] [--relay MULTIADDR --health URL] [--json FILE]`
 */
import { writeFile } from 'node:fs/promises'
import { formatRelayLoad, measureRelayLoad } from '../bench/relay-load.ts'
import { parseInteger } from './args.ts'
import type { CliIo } from './options.ts'

/** Help of `bench relay`. */
export const BENCH_RELAY_USAGE = `bench relay [--peers N] [--concurrency C] [--relay MULTIADDR [--health URL]] [--json FILE]
                     the relay under load: N loopback peers (default 500) each make a
                     circuit-relay reservation, C at a time (default 8); p50/p99 time to a
                     reservation and the relay's memory. Without --relay, a relay is
                     started in a child process.
`

/** Run `bench relay`; writes `{"relay": report}` to --json. */
export async function cmdBenchRelay (values: { peers?: string, concurrency?: string, relay?: string, health?: string, json?: string }, io: CliIo): Promise<void> {
  const peers = values.peers === undefined ? 500 : parseInteger('peers', values.peers, 1, 2000)
  const concurrency = values.concurrency === undefined ? Math.min(8, peers) : parseInteger('concurrency', values.concurrency, 1, peers)
  let last = 0
  const report = await measureRelayLoad({
    peers,
    concurrency,
    relayAddr: values.relay,
    healthUrl: values.health,
    onProgress: (done, total) => {
      if (done !== total && done - last < Math.max(1, Math.floor(total / 10))) return
      last = done
      io.stderr(`${done}/${total} peers\n`)
    }
  })
  io.stdout(formatRelayLoad(report))
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify({ relay: report }, null, 2) + '\n')
}
