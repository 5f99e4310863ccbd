/**
 * `cerberus relay`: the signaling relay (WebSockets, circuit-relay-v2 for handshakes only,
 * gossipsub, `/health`) until Ctrl-C.
 */
import { parseInteger } from './args.ts'
import { parse, untilSignal, type CliIo } from './options.ts'

/** Help of `relay`. */
export const RELAY_USAGE = `relay:
  --port N            WebSockets port (default 9090; 0 = any free port)
  --health-port N     the /health HTTP port (default port + 1)
  --key-file PATH     the relay's identity (created on first start), so its address stays
`

/** Run `relay`. */
export async function cmdRelay (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, { port: { type: 'string' }, 'health-port': { type: 'string' }, 'key-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } })
  if (v.help === true) return io.stdout(RELAY_USAGE)
  const port = v.port === undefined ? 9090 : parseInteger('port', v.port, 0, 65535)
  const healthPort = v['health-port'] === undefined ? undefined : parseInteger('health-port', v['health-port'], 0, 65535)
  const { startRelay } = await import('../../signaling-server/relay.ts')
  const relay = await startRelay({ port, healthPort, keyFile: v['key-file'] })
  io.stdout(`relay ready: ${relay.multiaddrs.join(' ')}\nhealth: ${relay.healthUrl}\n`)
  await untilSignal()
  await relay.stop()
}
