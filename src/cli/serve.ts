/**
 * `cerberus serve`: the OpenAI-compatible gateway (src/gateway) on this machine, over the
 * user's one pipeline (`createPrivateGeneration`) with the HE keys in a worker thread of
 * this process — miners in-process (`--embedded`, the default), on the mesh (`--relay`),
 * or none: local mode (`--local`, plaintext on this machine).
 *
 * `--embedded` is `localMinerLink(createMinerPool(...))` with Node worker threads, not the
 * miner node assembly: a miner node exists to serve other users over libp2p (listening,
 * announcing on the mesh), and an embedded miner serves only this gateway, so the network
 * hop, the wire framing and the announcements would be cost without purpose. The
 * encryption, the miner's code (the same worker pool `cerberus miner` computes with) and
 * the verification of every result are the same.
 */
import type { LocalGeneration, MinerLinks, PrivateGeneration, PrivateGenerationComponents } from '../app/index.ts'
import type { AnswerInfo, Gateway, GatewayBackend } from '../gateway/index.ts'
import { parseChoice, parseInteger, UsageError } from './args.ts'
import { loadCliModel, MODEL_OPTIONS, parse, untilSignal, type CliIo } from './options.ts'

/** Help of `serve`. */
export const SERVE_USAGE = `serve:
  --port N            HTTP port (default 8080; 0 = any free port)
  --host H            address to listen on (default 127.0.0.1: this machine only; any
                      other prints a warning — use --token there)
  --embedded          answer privately with a miner in this process (the default)
  --relay MULTIADDR   answer privately with the miners of the mesh, found through this
                      relay; 503 while none serves the model
  --local             answer on this machine in plaintext: nothing leaves it, no encryption
  --fallback-local    with --relay: answer locally (plaintext) while no miner serves the
                      model, instead of 503
  --token T           require "Authorization: Bearer T" (default: $CERBERUS_TOKEN)
  --workers N         for --embedded: miner worker threads (default 1)
  --network N         the network the plan is made for (default loopback for --embedded
                      and --local, lan for --relay)
  --plan-cache DIR    keep the plan searches here (default: $CERBERUS_PLAN_CACHE, else
                      none), by model SHA-256 and options: a later start plans from them
                      (a 768-dim layer's search is ~10 s; a remembered one milliseconds)
`

/** What `serve` was asked for. */
export interface ServeOptions {
  readonly port: number
  readonly host: string
  readonly mode: 'embedded' | 'relay' | 'local'
  readonly relay?: string
  readonly fallbackLocal: boolean
  readonly token?: string
  readonly workers: number
  readonly network: 'loopback' | 'lan' | 'wan'
  /** A directory for the user worker's plan memos (plan-store.node.ts); none when absent. */
  readonly planCache?: string
  readonly model?: string
  readonly tokenizer?: string
  /** Waiting requests before 429 (tests fill a small queue). */
  readonly maxWaiting?: number
  readonly onAnswer?: (info: AnswerInfo) => void
}

/** A running `serve`: the gateway, the pipeline it generates with (none in local mode), and how to stop. */
export interface Serving {
  readonly gateway: Gateway
  readonly generation?: PrivateGeneration
  readonly links?: MinerLinks
  /** The model's name in requests. */
  readonly modelId: string
  readonly label: string
  close: () => Promise<void>
}

/** Parse `serve`'s arguments (CERBERUS_TOKEN from `env`). */
export function parseServeArgs (args: string[], env: NodeJS.ProcessEnv = process.env): ServeOptions & { help: boolean } {
  const v = parse(args, {
    ...MODEL_OPTIONS,
    port: { type: 'string' },
    host: { type: 'string' },
    embedded: { type: 'boolean' },
    relay: { type: 'string' },
    local: { type: 'boolean' },
    'fallback-local': { type: 'boolean' },
    token: { type: 'string' },
    workers: { type: 'string' },
    network: { type: 'string' },
    'plan-cache': { type: 'string' }
  })
  const chosen = [v.embedded === true && '--embedded', v.relay !== undefined && '--relay', v.local === true && '--local'].filter(x => x !== false)
  if (chosen.length > 1) throw new UsageError(`choose one of --embedded, --relay and --local, not ${chosen.join(' and ')}`)
  const mode = v.relay !== undefined ? 'relay' : v.local === true ? 'local' : 'embedded'
  if (v['fallback-local'] === true && mode !== 'relay') throw new UsageError('--fallback-local goes with --relay (with --embedded a miner is always there; --local is local already)')
  if (v.workers !== undefined && mode !== 'embedded') throw new UsageError('--workers goes with --embedded')
  const token = v.token ?? (env.CERBERUS_TOKEN === '' ? undefined : env.CERBERUS_TOKEN)
  const planCache = v['plan-cache'] ?? (env.CERBERUS_PLAN_CACHE === '' ? undefined : env.CERBERUS_PLAN_CACHE)
  if (planCache !== undefined && mode === 'local') throw new UsageError('--plan-cache goes with --embedded or --relay (--local plans without the encrypted search)')
  return {
    help: v.help === true,
    port: v.port === undefined ? 8080 : parseInteger('port', v.port, 0, 65535),
    host: v.host ?? '127.0.0.1',
    mode,
    ...(v.relay === undefined ? {} : { relay: v.relay }),
    fallbackLocal: v['fallback-local'] === true,
    ...(token === undefined ? {} : { token }),
    ...(planCache === undefined ? {} : { planCache }),
    workers: v.workers === undefined ? 1 : parseInteger('workers', v.workers, 1, 64),
    network: v.network === undefined ? (mode === 'relay' ? 'lan' : 'loopback') : parseChoice('network', v.network, ['loopback', 'lan', 'wan'] as const),
    ...(v.model === undefined ? {} : { model: v.model }),
    ...(v.tokenizer === undefined ? {} : { tokenizer: v.tokenizer })
  }
}

/** Start the gateway as `opts` says (tests call this in-process). */
export async function startServe (opts: ServeOptions, io: CliIo): Promise<Serving> {
  const model = await loadCliModel(opts)
  const { NETWORKS } = await import('../core/he/index.ts')
  const { createLocalGeneration, createPrivateGeneration, localMinerLink } = await import('../app/index.ts')
  const { promptTokens, modelChatTemplate } = await import('../app/index.ts')
  const chatTemplate = modelChatTemplate(model.tokenizer)
  const { NoMinersError, startGateway } = await import('../gateway/index.ts')
  const network = NETWORKS[opts.network]
  const closers: Array<() => Promise<void> | void> = []
  const closeAll = async (): Promise<void> => { for (const c of closers.reverse()) await c() }
  try {
    // Local mode runs the private pipeline's plaintext twin with the same plan: the same text.
    const local: LocalGeneration | undefined = opts.mode === 'local' || opts.fallbackLocal ? createLocalGeneration(model, { network }) : undefined
    let generation: PrivateGeneration | undefined
    let links: MinerLinks | undefined
    let label = 'local: plaintext on this machine, nothing leaves it'
    if (opts.mode !== 'local') {
      const { createHeUserClient, createMinerPool, squeezeInWorker } = await import('../workers/index.ts')
      const { spawnNodeHeWorker } = await import('../workers/he-port.node.ts')
      // The user's keys live in their own worker thread; no message ever carries them.
      const user = createHeUserClient({ spawn: () => spawnNodeHeWorker() })
      // The model is squeezed in a worker thread of its own (keeping the plan searches in --plan-cache, if given).
      const planner = { spawn: () => spawnNodeHeWorker(undefined, opts.planCache === undefined ? {} : { planCache: opts.planCache }) }
      const squeeze: NonNullable<PrivateGenerationComponents['squeeze']> = async (...args) => await squeezeInWorker(planner, ...args)
      closers.push(() => { user.close() })
      if (opts.mode === 'embedded') {
        const pool = createMinerPool({ spawn: () => spawnNodeHeWorker(), size: opts.workers })
        closers.push(() => { pool.close() })
        generation = await createPrivateGeneration(model, { session: user, miners: localMinerLink(pool, 'embedded'), squeeze }, { network, maxAttempts: 1 })
        label = `private: an embedded miner (${opts.workers} worker thread${opts.workers === 1 ? '' : 's'}), every result verified`
      } else {
        const { relayMiners } = await import('./private-miners.ts')
        const onDrop = (m: string, why: string): void => { io.stderr(`dropped miner ${m}: ${why === 'rejected' ? 'a result failed verification' : 'it failed repeatedly'}\n`) }
        const mesh = await relayMiners({ relay: opts.relay as string, modelSha256: model.sha256, session: crypto.randomUUID(), onDrop })
        closers.push(mesh.close)
        links = mesh.links
        generation = await createPrivateGeneration(model, { session: user, miners: mesh.links.scheduler, squeeze }, { network, maxAttempts: 3 })
        label = `private: the mesh's miners of this model, found through ${opts.relay}${opts.fallbackLocal ? ' (local, in plaintext, while none is there)' : ''}`
      }
      const gen = generation
      closers.push(async () => { await gen.close() })
      await gen.warmUp() // the keys are made now, not on the first request
    }
    const gen = generation
    const backend: GatewayBackend = {
      model: { id: model.name, created: Math.floor(Date.now() / 1000), contextLength: model.ckpt.config.seqLen, countTokens: (p, special) => promptTokens(model.tokenizer, p, special).length, ...(chatTemplate === undefined ? {} : { chatTemplate }) },
      path () {
        if (gen !== undefined && (links === undefined || links.ready > 0)) return { mode: 'private', generate: async (p, st, cb) => await gen.generate(p, st, cb) }
        if (local !== undefined) return { mode: 'local', generate: async (p, st, cb) => await local.generate(p, st, cb) }
        throw new NoMinersError(`no miner serves ${model.name} (sha256 ${model.sha256.slice(0, 12)}…) on the mesh right now; start one with "cerberus miner --relay …", or run "cerberus serve --fallback-local" to answer on this machine in plaintext meanwhile`)
      }
    }
    let gateway: Gateway
    try {
      gateway = await startGateway(backend, { port: opts.port, host: opts.host, token: opts.token, maxWaiting: opts.maxWaiting, onAnswer: opts.onAnswer })
    } catch (err) {
      const msg = (err as Error).message
      throw new UsageError(/EADDRINUSE/.test(msg) ? `port ${opts.port} is already in use; pick another with --port` : `the gateway could not listen on ${opts.host}:${opts.port}: ${msg}`)
    }
    closers.push(gateway.close)
    return { gateway, ...(generation === undefined ? {} : { generation }), ...(links === undefined ? {} : { links }), modelId: model.name, label, close: closeAll }
  } catch (err) {
    await closeAll()
    throw err
  }
}

function describeAnswer (info: AnswerInfo): string {
  const r = info.result?.receipt
  if (r === undefined) return `${info.endpoint}: ${info.disconnected ? 'the client left' : `failed: ${(info.error as Error)?.message ?? String(info.error)}`}\n`
  const how = r.mode === 'local' ? 'local (plaintext, nothing left this machine)' : `${r.verified} results verified, ${r.rejected} rejected, ${(r.bytesUp / 1024).toFixed(0)} KiB up, ${(r.bytesDown / 1024).toFixed(0)} KiB down`
  return `${info.endpoint}: ${r.tokens} tokens in ${(r.ms / 1000).toFixed(1)} s${info.disconnected ? ' (stopped: the client left)' : ''}; ${how}\n`
}

/** Run `serve` until Ctrl-C. */
export async function cmdServe (args: string[], io: CliIo): Promise<void> {
  const opts = parseServeArgs(args)
  if (opts.help) return io.stdout(SERVE_USAGE)
  const serving = await startServe({ ...opts, onAnswer: info => { io.stderr(describeAnswer(info)) } }, io)
  const { gateway } = serving
  if (gateway.exposed) {
    io.stderr(`WARNING: listening on ${opts.host}, beyond this machine: whoever reaches it can use your miners and read the answers it returns (they are plaintext over HTTP). ${opts.token === undefined ? 'Pass --token (or set CERBERUS_TOKEN) to require a bearer token.' : 'A bearer token is required.'}\n`)
  }
  io.stdout(`Cerberus gateway at ${gateway.baseUrl} (OpenAI-compatible; model "${serving.modelId}") — ${serving.label}\n`)
  await untilSignal()
  await serving.close()
}
