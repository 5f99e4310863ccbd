/**
 * `cerberus miner`: a headless miner on WebSockets (the miner node assembly with Node
 * worker threads), announcing itself through `--relay`, until Ctrl-C. With `--gpu`, each
 * worker thread runs the exact MAC graph on onnxruntime-node's WebGPU EP (Dawn over
 * Vulkan) where it finds an adapter and the self-test passes; otherwise the miner says
 * why and computes on the CPU (docs/10-gpu.md).
 */
import type { TamperMode } from '../net/miner-tamper.ts'
import { parseChoice, parseInteger, UsageError } from './args.ts'
import { loadCliModel, MODEL_OPTIONS, parse, parseRelays, untilSignal, type CliIo } from './options.ts'

/** Help of `miner`. */
export const MINER_USAGE = `miner:
  --port N            WebSockets port (default 9100; 0 = any free port)
  --workers N         worker threads computing (default 2)
  --relay MULTIADDR   stay connected to this relay (reconnecting when it comes back) and
                      announce this miner on the mesh through it; repeatable ("miner
                      ready" waits up to 15 s for the first relay connection)
  --announce-interval MS   between announcements (default 5000)
  --gpu               compute the multiply-accumulate on the GPU through onnxruntime-node's
                      WebGPU EP (needs libvulkan.so.1 and a Vulkan driver), after a self-test
                      against the CPU kernel; without an adapter, or if the self-test fails,
                      it says why and computes on the CPU
  --tamper=flip|zero|stale|flip-after=N
                      TESTS ONLY: a miner that lies, to show users and validators catch
                      it (flip-after=N: honest for the first N jobs of each session)
`

/** `--tamper`'s value: a mode, or flip-after=N. */
function parseTamper (raw: string): TamperMode {
  const after = /^flip-after=(\d+)$/.exec(raw)
  if (after !== null) return { flipAfter: parseInteger('tamper', after[1], 0, 1 << 30) }
  try {
    return parseChoice('tamper', raw, ['flip', 'zero', 'stale'] as const)
  } catch {
    throw new UsageError(`--tamper must be one of flip, zero, stale, flip-after=N, got "${raw}"`)
  }
}

/** How long `miner --relay …` waits for a relay connection before it says it is ready anyway. */
export const RELAY_WAIT_MS = 15_000

/** Run `miner`. */
export async function cmdMiner (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, { ...MODEL_OPTIONS, port: { type: 'string' }, workers: { type: 'string' }, tamper: { type: 'string' }, relay: { type: 'string', multiple: true }, 'announce-interval': { type: 'string' }, gpu: { type: 'boolean' } })
  if (v.help === true) return io.stdout(MINER_USAGE)
  const tamper = v.tamper === undefined ? undefined : parseTamper(v.tamper)
  const port = v.port === undefined ? 9100 : parseInteger('port', v.port, 0, 65535)
  const workers = v.workers === undefined ? 2 : parseInteger('workers', v.workers, 1, 64)
  const announceIntervalMs = v['announce-interval'] === undefined ? undefined : parseInteger('announce-interval', v['announce-interval'], 100, 3_600_000)
  const relays = await parseRelays(v.relay ?? [])
  const model = await loadCliModel(v)
  const { squeezeModel } = await import('../core/squeeze/index.ts')
  const { MINER_SQUEEZE, startMinerNode } = await import('../app/index.ts')
  const { createPeer } = await import('../net/peer.ts')
  const { generateKeyPair } = await import('@libp2p/crypto/keys')
  const { createMinerPool } = await import('../workers/index.ts')
  const { spawnNodeHeWorker } = await import('../workers/he-port.node.ts')
  const gpu = v.gpu === true
  const pool = createMinerPool({
    spawn: () => spawnNodeHeWorker(),
    size: workers,
    gpu,
    // A GPU failure mid-job (the job itself ran again on the CPU): say so once it happens.
    onJob: job => { if (job.fallback !== undefined) io.stderr(`GPU: ${job.fallback}\n`) }
  })
  if (gpu) {
    const device = await pool.device()
    io.stdout(device.kind === 'gpu'
      ? `computing on the GPU (${device.reason}), self-test passed on ${device.gpuWorkers} of ${device.workers} workers\n`
      : `computing on the CPU: ${device.reason}\n`)
  }
  const privateKey = await generateKeyPair('Ed25519')
  let peer
  try {
    peer = await createPeer({ listenPort: port, privateKey })
  } catch (err) {
    pool.close()
    const msg = (err as Error).message
    throw new UsageError(/EADDRINUSE/.test(msg) ? `port ${port} is already in use; pick another with --port` : `the miner could not listen: ${msg}`)
  }
  const node = peer
  const miner = await startMinerNode({
    model: { name: model.name, sha256: model.sha256, squeezed: squeezeModel(model.ckpt, MINER_SQUEEZE) },
    privateKey,
    relays,
    capacity: workers,
    addrs: () => node.getMultiaddrs().map(String).filter(a => a.includes('/ws/')),
    announceIntervalMs,
    tamper,
    onRelayChange: (r, up) => { io.stderr(`relay ${r.toString()}: ${up ? 'connected' : 'disconnected; reconnecting'}\n`) },
    onAnnounceError: err => { io.stderr(`announcement failed: ${(err as Error).message}\n`) }
  }, { peer: node, compute: pool })
  if (tamper !== undefined) io.stderr(`WARNING: this miner lies (--tamper=${v.tamper}); it exists to test that users and validators catch it\n`)
  // "ready" means on the mesh: wait (bounded) for a relay, so whoever waits for the line
  // (npm start, the tests) finds the miner reachable through it.
  if (relays.length > 0 && !await miner.member.untilRelay(RELAY_WAIT_MS)) {
    io.stderr(`no relay answered within ${RELAY_WAIT_MS / 1000} s; the miner keeps trying and serves direct dials meanwhile\n`)
  }
  io.stdout(`miner ready: ${node.getMultiaddrs().map(String).join(' ')}\n`)
  await untilSignal()
  await miner.stop()
  await node.stop()
  pool.close()
}
