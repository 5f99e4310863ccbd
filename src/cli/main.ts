/**
 * `cerberus` — the command line.
 *
 *   cerberus generate [--model PATH] [--tokenizer PATH] [--prompt S] [--steps N]
 *                     [--temperature T] [--topp P] [--seed S] [--engine f32|f32-fast|w8a8]
 *   cerberus eval-quant [--model PATH] [--tokenizer PATH] [--sequences N] [--steps N] [--json FILE]
 *
 * `generate` prints to stdout exactly what llama2.c's run.c prints for the same arguments
 * (the text, then a newline); timing goes to stderr.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { CerberusError } from '../core/errors.ts'
import { createEngine, createRng, createSampler, ENGINE_KINDS, evalQuant, generate, parseCheckpoint, parseTokenizer, type Checkpoint, type Tokenizer } from '../core/model/index.ts'
import { DEFAULT_MODEL_FILES, defaultModelDir, readModelFile } from '../node/model-files.ts'
import { parseChoice, parseInteger, parseNumber, parseSeed, UsageError } from './args.ts'
import { BENCH_USAGE, cmdBench } from './bench.ts'

const USAGE = `Usage: cerberus <command> [options]

Commands:
  generate     generate text with a plaintext engine (prints what llama2.c run.c prints)
  eval-quant   measure what W8A8 quantization costs against float32
  bench he     benchmark the encrypted matvec (Node or Chromium)
  bench engine benchmark private generation (stories260K and a 768-dim 12-layer model)
  plan         print the squeezed encrypted plan of a model as JSON
  relay        run the signaling relay (--port 9090, --health-port, --key-file)
  miner        run a headless Node miner on WebSockets (--port 9100, --workers 2,
               --relay MULTIADDR to join a mesh and announce itself there)

Model options (both commands):
  --model PATH        llama2.c checkpoint (default: <model dir>/${DEFAULT_MODEL_FILES.checkpoint})
  --tokenizer PATH    llama2.c tokenizer  (default: <model dir>/${DEFAULT_MODEL_FILES.tokenizer})
                      model dir: $CERBERUS_MODEL_DIR, else ../shared/models/stories260K,
                      else ~/.cache/cerberus/models/stories260K (npm run fetch-model)

generate:
  --prompt S          prompt text (default: empty)
  --steps N           positions to run, prompt included; 0 = the model's context (default 256)
  --temperature T     0 = greedy (default 1.0)
  --topp P            nucleus sampling mass in [0, 1] (default 0.9)
  --seed S            RNG seed; 0 or absent = current time, as run.c
  --engine E          f32 (run.c's arithmetic, default) | f32-fast | w8a8 | he | mesh
                      (he: every linear layer encrypted and computed by an in-process
                      miner, each result verified; prints exactly what w8a8 prints;
                      mesh: the same, computed by the miner at --miner)
  --network N         for --engine he/mesh: the network the plan is made for
                      (default loopback for he, lan for mesh)
  --miner MULTIADDR   for --engine mesh: a miner to use (printed by "cerberus miner");
                      repeat it to spread jobs over several, with failover, and a miner
                      whose result fails verification dropped

eval-quant:
  --sequences N       held-out sequences sampled from the f32 model (default 16)
  --steps N           positions per sequence (default 256)
  --json FILE         also write the numbers as JSON
`

const MODEL_OPTIONS = {
  model: { type: 'string' },
  tokenizer: { type: 'string' },
  help: { type: 'boolean', short: 'h' }
} satisfies ParseArgsConfig['options']

function parse<O extends NonNullable<ParseArgsConfig['options']>> (args: string[], options: O): ReturnType<typeof parseArgs<{ args: string[], options: O, strict: true, allowPositionals: false }>>['values'] {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^.*?: /, ''))
  }
}

async function loadModel (modelPath: string | undefined, tokenizerPath: string | undefined): Promise<{ ckpt: Checkpoint, tokenizer: Tokenizer }> {
  const dir = defaultModelDir()
  const ckpt = parseCheckpoint(await readModelFile(modelPath ?? join(dir, DEFAULT_MODEL_FILES.checkpoint), 'model'))
  const tokenizer = parseTokenizer(await readModelFile(tokenizerPath ?? join(dir, DEFAULT_MODEL_FILES.tokenizer), 'tokenizer'), ckpt.config.vocabSize)
  return { ckpt, tokenizer }
}

/** Output streams, injectable for tests. */
export interface CliIo {
  stdout: (bytes: Uint8Array | string) => void
  stderr: (text: string) => void
}

async function cmdGenerate (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, {
    ...MODEL_OPTIONS,
    prompt: { type: 'string' },
    steps: { type: 'string' },
    temperature: { type: 'string' },
    topp: { type: 'string' },
    seed: { type: 'string' },
    engine: { type: 'string' },
    network: { type: 'string' },
    miner: { type: 'string', multiple: true }
  })
  if (v.help === true) return io.stdout(USAGE)
  const temperature = v.temperature === undefined ? 1 : parseNumber('temperature', v.temperature, 0, 1e6)
  const topp = v.topp === undefined ? 0.9 : parseNumber('topp', v.topp, 0, 1)
  const steps = v.steps === undefined ? 256 : parseInteger('steps', v.steps, 0, 1 << 30)
  const engineKind = v.engine === undefined ? 'f32' : parseChoice('engine', v.engine, [...ENGINE_KINDS, 'he', 'mesh'] as const)
  const network = v.network === undefined ? (engineKind === 'mesh' ? 'lan' : 'loopback') : parseChoice('network', v.network, ['loopback', 'lan', 'wan'] as const)
  if (engineKind === 'mesh' && (v.miner === undefined || v.miner.length === 0)) throw new UsageError('--engine mesh needs --miner MULTIADDR (start one with "cerberus miner")')
  const seed = parseSeed(v.seed)
  const { ckpt, tokenizer } = await loadModel(v.model, v.tokenizer)
  const sampler = createSampler({ temperature, topp }, createRng(seed))
  let start = 0
  let count = 0
  const emit = (bytes: Uint8Array): void => {
    io.stdout(bytes)
    count++
    if (start === 0) start = performance.now()
  }
  if (engineKind === 'he' || engineKind === 'mesh') {
    const { privateEngine, generateAsync, heBackend, localHe } = await import('../core/engine/index.ts')
    const { squeezeModel } = await import('../core/squeeze/squeeze.ts')
    const { loadSeal, NETWORKS } = await import('../core/he/index.ts')
    const sq = squeezeModel(ckpt, { network: NETWORKS[network] })
    const local = localHe(await loadSeal())
    let stopPeer = async (): Promise<void> => {}
    let link = local.miner
    if (engineKind === 'mesh') {
      const { createNodePeer } = await import('../net/peers.ts')
      const { meshMinerLink } = await import('../net/mesh-link.ts')
      const { multiaddr } = await import('@multiformats/multiaddr')
      const { minerScheduler } = await import('../net/scheduler.ts')
      const addrs = (v.miner as string[]).map(a => {
        try { return multiaddr(a) } catch { throw new UsageError(`--miner must be a multiaddr like /ip4/127.0.0.1/tcp/9100/ws/p2p/12D3…, got "${a}"`) }
      })
      const peer = await createNodePeer()
      stopPeer = async () => { await peer.stop() }
      const session = crypto.randomUUID()
      const links = addrs.map(a => meshMinerLink(peer, a, { session }))
      link = links.length === 1 ? links[0] : minerScheduler(links, { onDrop: (m, why) => io.stderr(`dropped miner ${m}: ${why === 'rejected' ? 'a result failed verification' : 'it failed repeatedly'}\n`) })
    }
    const backend = await heBackend(sq, local.session, link, { maxAttempts: engineKind === 'mesh' && (v.miner?.length ?? 0) > 1 ? 3 : 1 })
    try {
      for await (const t of generateAsync(privateEngine(sq.params, backend), tokenizer, sampler, { prompt: v.prompt ?? '', steps })) emit(t.bytes)
    } finally {
      await backend.close?.()
      await stopPeer()
    }
    const st = backend.stats
    io.stdout('\n')
    io.stderr(`encrypted${engineKind === 'mesh' ? ` by ${link.name === 'scheduler' ? `${(v.miner as string[]).length} miners` : link.name}` : ''}: ${st.verified} linear results verified, ${st.rejected} rejected; ${(st.bytesUp / 1024).toFixed(0)} KiB up, ${(st.bytesDown / 1024).toFixed(0)} KiB down; user ${st.userMs.toFixed(0)} ms, miner ${st.minerMs.toFixed(0)} ms\n`)
  } else {
    for (const t of generate(createEngine(engineKind, ckpt), tokenizer, sampler, { prompt: v.prompt ?? '', steps })) emit(t.bytes)
    io.stdout('\n')
  }
  // As run.c: the timer starts after the first token, so the rate counts the rest.
  if (count > 1) io.stderr(`achieved tok/s: ${((count - 1) / ((performance.now() - start) / 1000)).toFixed(6)}\n`)
}

async function cmdEvalQuant (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, {
    ...MODEL_OPTIONS,
    sequences: { type: 'string' },
    steps: { type: 'string' },
    json: { type: 'string' }
  })
  if (v.help === true) return io.stdout(USAGE)
  const sequences = v.sequences === undefined ? 16 : parseInteger('sequences', v.sequences, 1, 10000)
  const steps = v.steps === undefined ? 256 : parseInteger('steps', v.steps, 2, 1 << 20)
  const { ckpt, tokenizer } = await loadModel(v.model, v.tokenizer)
  const report = evalQuant(ckpt, tokenizer, { sequences, steps, onProgress: (d, n) => io.stderr(`\rteacher-forcing sequence ${d}/${n}`) })
  io.stderr('\n')
  const pct = (x: number): string => `${(100 * x).toFixed(2)} %`
  const lines = [
    `held-out text: ${report.sequences} sequences sampled from the f32 model (seeds 1..${report.sequences}, temperature 1, top-p 0.9), ${report.positions} teacher-forced positions`,
    `f32 perplexity on it: ${report.f32Perplexity.toFixed(4)}`,
    '',
    '| variant | top-1 agreement | mean KL (nats) | perplexity | change | greedy prefix equal | greedy positions equal |',
    '|---|---|---|---|---|---|---|',
    ...report.variants.map(r => `| ${r.name} | ${pct(r.top1Agreement)} | ${r.meanKl.toFixed(5)} | ${r.perplexity.toFixed(4)} | ${r.perplexityChange >= 0 ? '+' : ''}${pct(r.perplexityChange)} | ${r.greedyPrefixAgreement} of ${r.greedyLength} | ${r.greedySamePositions} of ${r.greedyLength} |`),
    ''
  ]
  io.stdout(lines.join('\n'))
  if (v.json !== undefined) await writeFile(v.json, JSON.stringify(report, null, 2) + '\n')
}

async function cmdMiner (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, { ...MODEL_OPTIONS, port: { type: 'string' }, workers: { type: 'string' }, tamper: { type: 'string' }, relay: { type: 'string', multiple: true }, 'announce-interval': { type: 'string' } })
  if (v.help === true) return io.stdout('cerberus miner [--port 9100] [--workers 2] [--model PATH] [--tokenizer PATH] [--relay MULTIADDR]... [--announce-interval MS (default 5000)] [--tamper=flip|zero|stale (tests only)]\n  --relay: stay connected to this relay (reconnecting when it comes back) and announce this miner on the mesh through it; repeatable\n')
  const tamper = v.tamper === undefined ? undefined : parseChoice('tamper', v.tamper, ['flip', 'zero', 'stale'] as const)
  const port = v.port === undefined ? 9100 : parseInteger('port', v.port, 0, 65535)
  const workers = v.workers === undefined ? 2 : parseInteger('workers', v.workers, 1, 64)
  const announceIntervalMs = v['announce-interval'] === undefined ? undefined : parseInteger('announce-interval', v['announce-interval'], 100, 3_600_000)
  const { multiaddr } = await import('@multiformats/multiaddr')
  const relays = (v.relay ?? []).map(a => {
    let ma
    try { ma = multiaddr(a) } catch { throw new UsageError(`--relay must be a multiaddr like /ip4/127.0.0.1/tcp/9090/ws/p2p/12D3…, got "${a}"`) }
    if (!ma.getComponents().some(c => c.name === 'p2p')) throw new UsageError(`--relay must end in /p2p/<the relay's peer id> (printed by "cerberus relay"), got "${a}"`)
    return ma
  })
  const modelPath = v.model ?? join(defaultModelDir(), DEFAULT_MODEL_FILES.checkpoint)
  const { ckpt } = await loadModel(v.model, v.tokenizer)
  const { createHash } = await import('node:crypto')
  const { createReadStream } = await import('node:fs')
  const { basename, extname } = await import('node:path')
  // Users pick miners by the SHA-256 of the checkpoint file's bytes (as the browser app computes it).
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(modelPath)) hash.update(chunk as Buffer)
  const model = { name: basename(modelPath, extname(modelPath)), sha256: hash.digest('hex') }
  const { squeezeModel } = await import('../core/squeeze/squeeze.ts')
  const { SECURE_PRESETS } = await import('../core/he/params.ts')
  const { createNodePeer } = await import('../net/peers.ts')
  const { keepConnected } = await import('../net/dial.ts')
  const { ANNOUNCE_LIMITS, startAnnouncing } = await import('../net/discovery.ts')
  const { generateKeyPair } = await import('@libp2p/crypto/keys')
  const { startMinerService } = await import('../net/miner-service.ts')
  const { createMinerPool } = await import('../workers/he-pool.ts')
  const { spawnNodeHeWorker } = await import('../node/he-worker-port.ts')
  // Fusion and folding are what every user's plan uses; the packing comes with each job.
  const sq = squeezeModel(ckpt)
  const pool = createMinerPool({ spawn: () => spawnNodeHeWorker(), size: workers })
  const privateKey = await generateKeyPair('Ed25519')
  let peer
  try {
    peer = await createNodePeer({ listenPort: port, privateKey })
  } catch (err) {
    pool.close()
    const msg = (err as Error).message
    throw new UsageError(/EADDRINUSE/.test(msg) ? `port ${port} is already in use; pick another with --port` : `the miner could not listen: ${msg}`)
  }
  const node = peer
  const service = await startMinerService(node, sq, pool, { tamper })
  if (tamper !== undefined) io.stderr(`WARNING: this miner lies (--tamper=${tamper}); it exists to test that users catch it\n`)
  io.stdout(`miner ready: ${node.getMultiaddrs().map(String).join(' ')}\n`)
  const announcer = startAnnouncing(node, privateKey, () => ({
    role: 'miner' as const,
    addrs: node.getMultiaddrs().map(String).filter(a => a.includes('/ws/')).slice(0, ANNOUNCE_LIMITS.maxAddrs),
    model,
    presets: SECURE_PRESETS.map(p => p.name),
    capacity: workers,
    load: service.queued
  }), { intervalMs: announceIntervalMs, onError: err => { io.stderr(`announcement failed: ${(err as Error).message}\n`) } })
  const watches = relays.map(r => keepConnected(node, r, { onChange: up => { io.stderr(`relay ${r.toString()}: ${up ? 'connected' : 'disconnected; reconnecting'}\n`) } }))
  await new Promise<void>(resolve => {
    process.once('SIGINT', () => { resolve() })
    process.once('SIGTERM', () => { resolve() })
  })
  announcer.stop()
  for (const w of watches) w.stop()
  await service.stop()
  await node.stop()
  pool.close()
}

async function cmdRelay (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, { port: { type: 'string' }, 'health-port': { type: 'string' }, 'key-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } })
  if (v.help === true) return io.stdout('cerberus relay [--port 9090] [--health-port PORT+1] [--key-file PATH]\n')
  const port = v.port === undefined ? 9090 : parseInteger('port', v.port, 0, 65535)
  const healthPort = v['health-port'] === undefined ? undefined : parseInteger('health-port', v['health-port'], 0, 65535)
  const { startRelay } = await import('../../signaling-server/relay.ts')
  const relay = await startRelay({ port, healthPort, keyFile: v['key-file'] })
  io.stdout(`relay ready: ${relay.multiaddrs.join(' ')}\nhealth: ${relay.healthUrl}\n`)
  await new Promise<void>(resolve => {
    process.once('SIGINT', () => { resolve() })
    process.once('SIGTERM', () => { resolve() })
  })
  await relay.stop()
}

async function cmdPlan (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, { ...MODEL_OPTIONS, network: { type: 'string' }, naive: { type: 'boolean' }, json: { type: 'string' } })
  if (v.help === true) return io.stdout('cerberus plan [--model PATH] [--tokenizer PATH] [--network loopback|lan|wan] [--naive] [--json FILE]\n')
  const network = v.network === undefined ? 'lan' : parseChoice('network', v.network, ['loopback', 'lan', 'wan'] as const)
  const { ckpt } = await loadModel(v.model, v.tokenizer)
  const { NETWORKS } = await import('../core/he/index.ts')
  const { squeezeModel, NAIVE } = await import('../core/squeeze/squeeze.ts')
  const { planToJson } = await import('../core/squeeze/plan-json.ts')
  const text = JSON.stringify(planToJson(ckpt.config, squeezeModel(ckpt, v.naive === true ? { ...NAIVE, network: NETWORKS[network] } : { network: NETWORKS[network] })), null, 2) + '\n'
  if (v.json !== undefined) await writeFile(v.json, text)
  else io.stdout(text)
}

async function cmdBenchArgs (args: string[], io: CliIo): Promise<void> {
  const [what, ...rest] = args
  if (what === '--help' || what === '-h' || what === undefined) return io.stdout(BENCH_USAGE)
  if (what === 'relay') {
    const v = parse(rest, { peers: { type: 'string' }, concurrency: { type: 'string' }, relay: { type: 'string' }, health: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } })
    const { BENCH_RELAY_USAGE, cmdBenchRelay } = await import('./bench-relay.ts')
    if (v.help === true) return io.stdout(BENCH_RELAY_USAGE)
    return await cmdBenchRelay(v, io)
  }
  if (what === 'engine') {
    const v = parse(rest, { runtime: { type: 'string' }, models: { type: 'string' }, tokens: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } })
    if (v.help === true) return io.stdout(BENCH_USAGE)
    const { cmdBenchEngine } = await import('./bench-engine.ts')
    const { ckpt, tokenizer } = await loadModel(undefined, undefined)
    return await cmdBenchEngine(v, ckpt, tokenizer, io)
  }
  if (what === 'mesh') {
    const v = parse(rest, { models: { type: 'string' }, tokens: { type: 'string' }, 'synthetic-layers': { type: 'string' }, 'relay-peers': { type: 'string' }, 'split-min-blocks': { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } })
    if (v.help === true) return io.stdout(BENCH_USAGE)
    const models = v.models === undefined ? undefined : v.models.split(',').map(m => parseChoice('models', m, ['stories260K', 'synthetic-768'] as const))
    const { runMeshBench, formatMeshBench } = await import('../node/mesh-bench.ts')
    const report = await runMeshBench({
      models,
      tokens: v.tokens === undefined ? undefined : parseInteger('tokens', v.tokens, 1, 1024),
      syntheticLayers: v['synthetic-layers'] === undefined ? undefined : parseInteger('synthetic-layers', v['synthetic-layers'], 1, 64),
      relayPeers: v['relay-peers'] === undefined ? undefined : parseInteger('relay-peers', v['relay-peers'], 0, 2000),
      splitMinBlocks: v['split-min-blocks'] === undefined ? undefined : parseInteger('split-min-blocks', v['split-min-blocks'], 1, 1_000_000),
      onProgress: line => { io.stderr(`${line}\n`) }
    })
    io.stdout(formatMeshBench(report))
    if (v.json !== undefined) {
      const { writeFile } = await import('node:fs/promises')
      await writeFile(v.json, JSON.stringify(report, null, 2) + '\n')
    }
    return
  }
  if (what === 'gpu') {
    const v = parse(rest, { runtime: { type: 'string' }, shapes: { type: 'string' }, reps: { type: 'string' }, 'hardware-gpu': { type: 'boolean' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } })
    const { BENCH_GPU_USAGE, BenchGpuUsageError, cmdBenchGpu } = await import('../gpu/bench-node.ts')
    if (v.help === true) return io.stdout(BENCH_GPU_USAGE)
    return await cmdBenchGpu(v, io).catch((err: unknown) => { throw err instanceof BenchGpuUsageError ? new UsageError(err.message) : err })
  }
  if (what !== 'he') throw new UsageError(`unknown benchmark "${what}" (available: he, engine, mesh, relay, gpu)`)
  const v = parse(rest, {
    runtime: { type: 'string' },
    network: { type: 'string' },
    shapes: { type: 'string' },
    reps: { type: 'string' },
    json: { type: 'string' },
    calibrate: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' }
  })
  if (v.help === true) return io.stdout(BENCH_USAGE)
  await cmdBench(v, io)
}

/**
 * Run the CLI with `argv` (without node and script); returns the exit status.
 * Known errors print one line `cerberus: <message>`; usage errors add a hint.
 */
export async function main (argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'generate': await cmdGenerate(rest, io); return 0
      case 'eval-quant': await cmdEvalQuant(rest, io); return 0
      case 'bench': await cmdBenchArgs(rest, io); return 0
      case 'plan': await cmdPlan(rest, io); return 0
      case 'relay': await cmdRelay(rest, io); return 0
      case 'miner': await cmdMiner(rest, io); return 0
      case undefined: case 'help': case '--help': case '-h': io.stdout(USAGE); return command === undefined ? 2 : 0
      default: throw new UsageError(`unknown command "${command}"`)
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`cerberus: ${err.message}\nRun "cerberus help" for usage.\n`)
      return 2
    }
    if (err instanceof CerberusError) {
      io.stderr(`cerberus: ${err.message}\n`)
      return 1
    }
    throw err
  }
}
