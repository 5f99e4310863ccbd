/**
 * `cerberus bench mesh`: private generation over the real mesh, measured end to end.
 *
 * For each model (stories260K, and the 768-dim synthetic shape), in one run on this
 * machine, all on loopback:
 * - the baseline, **he-local**: the same encrypted pipeline with the user's and the miner's
 *   HE workers in one Chromium tab, no network;
 * - **webrtc**: a relay, two donor tabs (browser miners) and a user tab, browser↔browser
 *   over WebRTC (the relay carries only the handshake);
 * - **websocket**: a relay, two headless Node miners (`cerberus miner --relay`), and a user
 *   tab dialling them over WebSockets.
 * The user tab generates twice; the second run is the steady state (the first includes the
 * miners encoding the model's matrices on first use). Tokens are compared with the
 * pipeline's plaintext twin run in Node (w8a8 under the same plan). Plus the relay under load (N loopback peers making reservations).
 *
 * `link` (issue 12 item 4) simulates the network between the user and the miners, each
 * way (link-profiles.ts): on `lan`/`wan` every tab shapes what it sends on WebRTC data
 * channels (datachannel-shaping.ts) and the user dials each Node miner through a shaped
 * TCP proxy (tcp-proxy.ts) — the user's uplink one shaper shared by both proxies, each
 * miner's its own. The relay (handshakes, signalling, announcements) is not shaped, nor is
 * he-local (no network); the user plans for the link in every run, he-local included, so
 * the ratio isolates what the link costs.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from '@playwright/test'
import { startRelay, type Relay } from '../../signaling-server/relay.ts'
import { CerberusError } from '../core/errors.ts'
import { squeezedEngine } from '../core/engine/index.ts'
import type { NetworkProfile } from '../core/he/index.ts'
import { createRng, createSampler, encode, generate, parseCheckpoint, parseTokenizer } from '../core/model/index.ts'
import { squeezeModel, type RoundsMode } from '../core/squeeze/index.ts'
import { SYNTHETIC_768X12, syntheticModelBytes, syntheticTokenizerBytes } from '../core/model/index.ts'
import type { AnswerReceipt } from '../app/index.ts'
import { tokenTime, type TokenTime } from './token-time.ts'
import type { ClientRunResult } from './mesh-page.ts'
import { openBenchBrowser, type BenchBrowser } from './browser-runner.ts'
import { directionSpec, LINK_PROFILES, type LinkName, type LinkProfile } from './link-profiles.ts'
import { createLinkShaper, type LinkShaper } from './link-shaper.ts'
import { startShapedProxy, type ShapedProxy } from './tcp-proxy.ts'
import { firstTokenFields, PROMPT_WORDS, promptOfTokens } from './mesh-prompt.ts'
import { serveFiles } from './serve-files.ts'
import { formatPortMap } from './websocket-proxying.ts'
import { DEFAULT_MODEL_FILES, defaultModelDir, PROJECT_ROOT } from '../node/model-files.ts'

/** One measured path. */
export interface MeshBenchRun {
  readonly model: string
  readonly path: 'webrtc' | 'websocket'
  /** The simulated link between user and miners ("loopback" when unshaped). */
  readonly link: LinkName
  /** The plan's round layout (the squeezed model's, planned for the link). */
  readonly plan: 'fused' | 'unfused'
  /** Dependent round trips per token (the backend's `rounds` counter), steady state. */
  readonly roundTripsPerToken: number
  /** Steady-state tokens per second (second generation). */
  readonly tokPerS: number
  /** The first generation, including the miners' one-time matrix encoding. */
  readonly firstRunTokPerS: number
  /** he-local in the same run, same browser, same plan: its second generation (steady state, as tokPerS). */
  readonly heLocalTokPerS: number
  readonly heLocalRoundTripsPerToken: number
  /** tokPerS ÷ heLocalTokPerS. */
  readonly ofHeLocal: number
  /** Bytes up + down per token, and each way. */
  readonly bytesPerToken: number
  readonly upPerToken: number
  readonly downPerToken: number
  readonly tokens: number
  readonly verified: number
  readonly rejected: number
  /** Miners that answered jobs. */
  readonly miners: number
  readonly tokensMatch: boolean
  /** The prompt's tokens (BOS not counted; 0 = generation from BOS alone). */
  readonly promptTokens: number
  /**
   * With a prompt (`--prompt-tokens`): the steady run's time to the first token (the prompt in
   * one batched pass: one round per matrix), he-local's in the same run, the steady run's ms
   * per token after the first, and time to first token ÷ what feeding BOS and the prompt one
   * position at a time would cost at that rate.
   */
  readonly firstTokenMs?: number
  readonly heLocalFirstTokenMs?: number
  readonly decodeMsPerToken?: number
  readonly firstTokenVsOneByOne?: number
  /** The longest task on the user tab's UI thread during the steady run, and he-local's (ms; 0: none ≥ 50 ms). */
  readonly userLongestTaskMs?: number
  readonly heLocalLongestTaskMs?: number
  /** he-local's longest UI-thread task with the local groups multiplied on the UI thread (the baseline of moving them to the user's worker). */
  readonly heLocalUiThreadLocalLongestTaskMs?: number
  /** What the local groups (the classifier) cost the UI thread per token when they run there (he-local, local=ui): what the user's worker now takes off it. */
  readonly uiThreadLocalMsPerToken?: number
  /**
   * Where a steady-state token's time went (ms per token; the receipts' `time`, summed over
   * jobs — a round's parallel jobs overlap, so with the fused plan the parts can exceed the
   * token), over the mesh and in he-local: the user's HE worker encrypting and decrypting,
   * Freivalds, the jobs' wall time from send to results and, over WebRTC, how much of it the
   * donors' worker pools computed (their tabs' counters), and the rest of the token (the
   * forward pass's own arithmetic, sampling; ms per token − the others, floored at 0).
   */
  readonly timePerToken?: TokenTime
  readonly heLocalTimePerToken?: TokenTime
}

/** The benchmark's JSON. */
export interface MeshBenchReport {
  /** The simulated link, each way (absent shape: unshaped loopback). */
  readonly link: { readonly name: LinkName, readonly rttMs?: number, readonly bitsPerSecond?: number }
  readonly runs: MeshBenchRun[]
  readonly relay?: { readonly peers: number, readonly p50Ms: number, readonly p99Ms: number, readonly [k: string]: unknown }
  readonly notes: string[]
}

/** Options of {@link runMeshBench}. */
export interface MeshBenchOptions {
  readonly models?: ReadonlyArray<'stories260K' | 'synthetic-768'>
  /** Answer tokens per generation (default 32 for stories260K, 3 for the synthetic model). */
  readonly tokens?: number
  /** A prompt of about this many tokens (default 0: from BOS alone; the runs report the exact count). */
  readonly promptTokens?: number
  /** Layers of the 768-dim synthetic model (default 12, as SYNTHETIC_768X12). */
  readonly syntheticLayers?: number
  /** Split matrices with at least this many output blocks across the two miners (default: the client's, 16). */
  readonly splitMinBlocks?: number
  /** The link to simulate between user and miners (default loopback: unshaped). */
  readonly link?: LinkName
  /** The plan's round layout (default 'auto': the planner's choice for the link), in every run. */
  readonly rounds?: RoundsMode
  /** Relay load: peers making reservations (0 = skip). Default 500. */
  readonly relayPeers?: number
  readonly onProgress?: (line: string) => void
}

/** A bench step failed. */
export class MeshBenchError extends CerberusError {
  constructor (message: string) {
    super('MESH_BENCH', message)
  }
}

interface ModelFiles { name: string, modelPath: string, tokenizerPath: string, query: string, expected: string }

/** The encrypted pipeline's plaintext twin under the plan made for `network` (w8a8 in the plan's round layout): the answer's text after `prompt`. */
function w8a8Text (model: Uint8Array, tokenizer: Uint8Array, tokens: number, network: NetworkProfile, rounds: RoundsMode, prompt = ''): string {
  const ckpt = parseCheckpoint(model)
  const tok = parseTokenizer(tokenizer, ckpt.config.vocabSize)
  const dec = new TextDecoder()
  let text = ''
  const steps = encode(tok, prompt).length - 1 + tokens
  for (const t of generate(squeezedEngine(squeezeModel(ckpt, { network, rounds })), tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt, steps })) if (!t.fromPrompt) text += dec.decode(t.bytes, { stream: true })
  return text + dec.decode()
}

/** A Node miner and the port of its WebSocket address (what it announces). */
async function startMiner (relay: string, m: ModelFiles): Promise<{ proc: ChildProcess, port: number }> {
  const proc = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/cerberus.js'), 'miner', '--port', '0', '--workers', '1', '--relay', relay, '--model', m.modelPath, '--tokenizer', m.tokenizerPath], { stdio: ['ignore', 'pipe', 'pipe'] })
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const ready = /miner ready:.*?\/ip4\/127\.0\.0\.1\/tcp\/(\d+)\/ws/.exec(out)
      if (ready !== null) resolve(Number(ready[1]))
      else if (out.includes('miner ready:')) reject(new MeshBenchError(`a miner announced no /ip4/127.0.0.1/tcp/…/ws address: ${out.slice(-400)}`))
    })
    proc.stderr?.on('data', (d: Buffer) => { out += d.toString() })
    proc.once('exit', code => { reject(new MeshBenchError(`a miner exited (${code}): ${out.slice(-400)}`)) })
  })
  return { proc, port }
}

/** Per token of a receipt: round trips (the backend's counter). */
// the runs' time breakdowns, where the receipts have one
function timeFields (steady: AnswerReceipt, base: AnswerReceipt, minerComputeMs: number | undefined): Pick<MeshBenchRun, 'timePerToken' | 'heLocalTimePerToken'> {
  const mesh = tokenTime(steady, minerComputeMs)
  const local = tokenTime(base)
  return { ...(mesh === undefined ? {} : { timePerToken: mesh }), ...(local === undefined ? {} : { heLocalTimePerToken: local }) }
}

function roundTripsPerToken (r: AnswerReceipt): number {
  if (r.rounds === undefined) throw new MeshBenchError('a receipt has no round count')
  return r.rounds / r.tokens
}

const promptQuery = (prompt: string): string => prompt === '' ? '' : `&prompt=${encodeURIComponent(prompt)}`

/** Shaped proxies in front of the miners' ports: the user's uplink shared, each miner's own. */
async function shapeMiners (link: LinkProfile, ports: number[], cleanup: Array<() => Promise<void> | void>): Promise<string> {
  const spec = directionSpec(link)
  if (spec === undefined) return ''
  const shapers: LinkShaper[] = []
  const shaper = (): LinkShaper => { const l = createLinkShaper(spec); shapers.push(l); return l }
  const up = shaper()
  const proxies: ShapedProxy[] = []
  for (const port of ports) proxies.push(await startShapedProxy({ targetPort: port, toTarget: up, fromTarget: shaper() }))
  cleanup.push(async () => {
    for (const p of proxies) await p.close()
    for (const l of shapers) l.close()
  })
  return `&wsproxy=${formatPortMap(new Map(proxies.map(p => [p.targetPort, p.port])))}`
}

async function userRun (bb: BenchBrowser, ctx: BrowserContext, q: string, timeoutMs: number): Promise<ClientRunResult> {
  const page = await ctx.newPage()
  await page.goto(`${bb.origin}/bench.html?${q}`)
  const r = await (await page.waitForFunction(() => window.cerberusClient, undefined, { timeout: timeoutMs })).jsonValue() as ClientRunResult
  if (r.error !== undefined) throw new MeshBenchError(`the user tab failed: ${r.error}`)
  return r
}

/** Run the benchmark. */
export async function runMeshBench (opts: MeshBenchOptions = {}): Promise<MeshBenchReport> {
  const say = opts.onProgress ?? (() => {})
  const link = LINK_PROFILES[opts.link ?? 'loopback']
  const rounds = opts.rounds ?? 'auto'
  // every tab plans for the link, in the layout asked for
  const linkQuery = `link=${link.name}&rounds=${rounds}`
  const models = opts.models ?? ['stories260K', 'synthetic-768']
  const runs: MeshBenchRun[] = []
  const notes: string[] = []
  const tmp = await mkdtemp(join(tmpdir(), 'cerberus-mesh-bench-'))
  const bb = await openBenchBrowser()
  const cleanup: Array<() => Promise<void> | void> = []
  try {
    for (const name of models) {
      let files: ModelFiles
      if (name === 'stories260K') {
        const dir = defaultModelDir()
        const { readFile } = await import('node:fs/promises')
        const model = new Uint8Array(await readFile(join(dir, DEFAULT_MODEL_FILES.checkpoint)))
        const tok = new Uint8Array(await readFile(join(dir, DEFAULT_MODEL_FILES.tokenizer)))
        const tokens = opts.tokens ?? 32
        const prompt = promptOfTokens(parseTokenizer(tok, parseCheckpoint(model).config.vocabSize), opts.promptTokens ?? 0, PROMPT_WORDS.stories)
        files = { name, modelPath: join(dir, DEFAULT_MODEL_FILES.checkpoint), tokenizerPath: join(dir, DEFAULT_MODEL_FILES.tokenizer), query: `steps=${tokens}${promptQuery(prompt)}`, expected: w8a8Text(model, tok, tokens, link.network, rounds, prompt) }
      } else {
        const layers = opts.syntheticLayers ?? SYNTHETIC_768X12.nLayers
        const cfg = { ...SYNTHETIC_768X12, nLayers: layers }
        say(`making the synthetic 768-dim model (${layers} layers)…`)
        const model = syntheticModelBytes(cfg)
        const tok = syntheticTokenizerBytes(cfg.vocabSize)
        const modelPath = join(tmp, 'synthetic-768.bin')
        const tokenizerPath = join(tmp, 'synthetic-tok.bin')
        await writeFile(modelPath, model)
        await writeFile(tokenizerPath, tok)
        const { server, base } = await serveFiles({ '/model.bin': model, '/tok.bin': tok })
        cleanup.push(async () => { await new Promise<void>(resolve => server.close(() => { resolve() })) })
        const tokens = opts.tokens ?? 3
        const prompt = promptOfTokens(parseTokenizer(tok, cfg.vocabSize), opts.promptTokens ?? 0, PROMPT_WORDS.synthetic)
        files = { name: `synthetic-768x${layers}`, modelPath, tokenizerPath, query: `steps=${tokens}${promptQuery(prompt)}&model=${encodeURIComponent(`${base}/model.bin`)}&tokenizer=${encodeURIComponent(`${base}/tok.bin`)}`, expected: w8a8Text(model, tok, tokens, link.network, rounds, prompt) }
      }
      const timeout = name === 'stories260K' ? 240_000 : 900_000

      say(`${files.name}: he-local (baseline, one tab)…`)
      const baseCtx = await bb.browser.newContext()
      // two generations, as the mesh's user tab makes: the second is the steady state compared
      const base = await userRun(bb, baseCtx, `bench=helocal&runs=2&${linkQuery}&${files.query}`, timeout)
      // the same, with the local groups (the classifier) on the UI thread: what the user's worker spares it
      const uiLocal = await userRun(bb, baseCtx, `bench=helocal&local=ui&${linkQuery}&${files.query}`, timeout)
      await baseCtx.close()
      const b0 = base.receipts?.[1]
      if (b0 === undefined) throw new MeshBenchError('he-local gave no second receipt')
      const heLocal = b0.tokens / (b0.ms / 1000)

      for (const path of ['webrtc', 'websocket'] as const) {
        say(`${files.name}: ${path}…`)
        const relay: Relay = await startRelay({ port: 0, healthPort: 0 })
        const relayAddr = relay.multiaddrs[0]
        const contexts: BrowserContext[] = []
        const procs: ChildProcess[] = []
        const shaping: Array<() => Promise<void> | void> = []
        let proxied = ''
        const donorPages: Page[] = []
        try {
          if (path === 'webrtc') {
            for (let i = 0; i < 2; i++) {
              const ctx = await bb.browser.newContext()
              contexts.push(ctx)
              const page = await ctx.newPage()
              donorPages.push(page)
              await page.goto(`${bb.origin}/bench.html?bench=donor&workers=1&relay=${encodeURIComponent(relayAddr)}&${linkQuery}&${files.query}`)
              await page.waitForFunction(() => window.cerberusDonor?.status === 'on' || window.cerberusDonor?.status === 'error', undefined, { timeout: 120_000 })
              const err = await page.evaluate(() => window.cerberusDonor?.error?.message)
              if (err !== undefined) throw new MeshBenchError(`a donor tab failed: ${err}`)
            }
          } else {
            const ports: number[] = []
            for (let i = 0; i < 2; i++) {
              const m = await startMiner(relayAddr, files)
              procs.push(m.proc)
              ports.push(m.port)
            }
            proxied = await shapeMiners(link, ports, shaping)
          }
          const ctx = await bb.browser.newContext()
          contexts.push(ctx)
          const split = opts.splitMinBlocks === undefined ? '' : `&split=${opts.splitMinBlocks}`
          const r = await userRun(bb, ctx, `bench=client&miners=2&runs=2${split}&relay=${encodeURIComponent(relayAddr)}&${linkQuery}${proxied}&${files.query}`, timeout)
          const [first, steady] = r.receipts ?? []
          if (steady === undefined) throw new MeshBenchError('the user tab gave no second receipt')
          const tokPerS = steady.tokens / (steady.ms / 1000)
          // the donors' own compute (their worker pools), per job over both runs, for the steady run's jobs
          const donors = await Promise.all(donorPages.map(async p => await p.evaluate(() => ({ jobs: window.cerberusDonor?.jobs ?? 0, computeMs: window.cerberusDonor?.computeMs ?? 0 }))))
          const donorJobs = donors.reduce((a, d) => a + d.jobs, 0)
          const minerComputeMs = donorJobs === 0 ? undefined : (donors.reduce((a, d) => a + d.computeMs, 0) / donorJobs) * steady.miners.reduce((a, m) => a + m.jobs, 0)
          if (steady.layout === undefined || steady.layout !== b0.layout) throw new MeshBenchError(`the user tab planned ${steady.layout ?? 'no layout'} but he-local ${b0.layout ?? 'none'}: the ratio would compare two plans`)
          runs.push({
            model: files.name,
            path,
            link: link.name,
            plan: steady.layout,
            roundTripsPerToken: roundTripsPerToken(steady),
            tokPerS,
            firstRunTokPerS: first.tokens / (first.ms / 1000),
            heLocalTokPerS: heLocal,
            heLocalRoundTripsPerToken: roundTripsPerToken(b0),
            ofHeLocal: tokPerS / heLocal,
            bytesPerToken: (steady.bytesUp + steady.bytesDown) / steady.tokens,
            upPerToken: steady.bytesUp / steady.tokens,
            downPerToken: steady.bytesDown / steady.tokens,
            tokens: steady.tokens,
            promptTokens: steady.promptTokens ?? 0,
            ...firstTokenFields(steady, b0),
            verified: steady.verified,
            rejected: steady.rejected,
            miners: steady.miners.length,
            tokensMatch: (r.texts ?? []).length === 2 && (r.texts ?? []).every(t => t === files.expected) && (base.texts ?? []).length === 2 && (base.texts ?? []).every(t => t === files.expected),
            ...(r.longestTaskMs?.[1] === undefined ? {} : { userLongestTaskMs: r.longestTaskMs[1] }),
            ...(base.longestTaskMs?.[0] === undefined ? {} : { heLocalLongestTaskMs: base.longestTaskMs[0] }),
            ...(uiLocal.longestTaskMs?.[0] === undefined ? {} : { heLocalUiThreadLocalLongestTaskMs: uiLocal.longestTaskMs[0] }),
            ...(uiLocal.uiLocalMs === undefined || uiLocal.receipts?.[0] === undefined ? {} : { uiThreadLocalMsPerToken: uiLocal.uiLocalMs / uiLocal.receipts[0].tokens }),
            ...timeFields(steady, b0, minerComputeMs)
          })
          say(`  ${path}: ${tokPerS.toFixed(2)} tok/s (he-local ${heLocal.toFixed(2)}), ${runs[runs.length - 1].roundTripsPerToken.toFixed(1)} round trips per token, ${steady.layout}`)
        } finally {
          for (const c of contexts) await c.close().catch(() => {})
          for (const c of shaping) await c()
          for (const p of procs) p.kill('SIGTERM')
          await relay.stop()
        }
      }
    }
    let relayReport: MeshBenchReport['relay']
    const peers = opts.relayPeers ?? 500
    if (peers > 0) {
      say(`relay under load: ${peers} loopback peers making reservations…`)
      const { measureRelayLoad } = await import('./relay-load.ts')
      relayReport = await measureRelayLoad({ peers }) as unknown as MeshBenchReport['relay']
    }
    notes.push('all on loopback on this machine; he-local is the same encrypted pipeline in one tab (no network), measured in the same run, with the same plan')
    if (link.shape !== undefined) notes.push(`link ${link.name}: ${link.shape.rttMs} ms round trip and ${link.shape.bitsPerSecond / 1e6} Mbit/s each way, simulated in userspace — WebRTC data-channel messages wait on each sending tab's shaper; Node miners are reached through shaped TCP proxies (the user's uplink shared, each miner's its own); the relay (handshakes, signalling, announcements), ICE/DTLS/SCTP control and TCP acknowledgements are not shaped; no loss, jitter or congestion control is modelled`)
    return { link: { name: link.name, ...(link.shape ?? {}) }, runs, ...(relayReport === undefined ? {} : { relay: relayReport }), notes }
  } finally {
    for (const c of cleanup) await c()
    await bb.close()
    await rm(tmp, { recursive: true, force: true })
  }
}

/** The report as a table. */
export function formatMeshBench (r: MeshBenchReport): string {
  const lines = [
    '| model | link | path | plan | round trips / token | tok/s | he-local tok/s (same run, same plan) | mesh ÷ he-local | first run tok/s | KiB/token (up / down) | verified | rejected | miners | tokens = w8a8 | longest UI task: user tab / he-local / he-local, classifier on the UI thread (ms) | classifier on the UI thread, ms / token |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'
  ]
  for (const x of r.runs) {
    lines.push(`| ${x.model} | ${x.link} | ${x.path} | ${x.plan} | ${x.roundTripsPerToken.toFixed(1)} | ${x.tokPerS.toFixed(2)} | ${x.heLocalTokPerS.toFixed(2)} | ${(100 * x.ofHeLocal).toFixed(0)} % | ${x.firstRunTokPerS.toFixed(2)} | ${(x.bytesPerToken / 1024).toFixed(0)} (${(x.upPerToken / 1024).toFixed(0)} / ${(x.downPerToken / 1024).toFixed(0)}) | ${x.verified} | ${x.rejected} | ${x.miners} | ${x.tokensMatch ? 'yes' : 'NO'} | ${x.userLongestTaskMs?.toFixed(0) ?? '—'} / ${x.heLocalLongestTaskMs?.toFixed(0) ?? '—'} / ${x.heLocalUiThreadLocalLongestTaskMs?.toFixed(0) ?? '—'} | ${x.uiThreadLocalMsPerToken?.toFixed(1) ?? '—'} |`)
  }
  const prompted = r.runs.filter(x => x.firstTokenMs !== undefined)
  if (prompted.length > 0) {
    lines.push('', '| model | link | path | prompt tokens | time to first token (ms) | he-local (ms) | ms / token after it | ÷ one position at a time |', '|---|---|---|---|---|---|---|---|')
    for (const x of prompted) lines.push(`| ${x.model} | ${x.link} | ${x.path} | ${x.promptTokens} | ${x.firstTokenMs?.toFixed(0) ?? '—'} | ${x.heLocalFirstTokenMs?.toFixed(0) ?? '—'} | ${x.decodeMsPerToken?.toFixed(0) ?? '—'} | ${x.firstTokenVsOneByOne?.toFixed(2) ?? '—'} |`)
  }
  const timed = r.runs.filter(x => x.timePerToken !== undefined)
  if (timed.length > 0) {
    const cells = (t: TokenTime | undefined): string => t === undefined ? '— | — | — | — | — | —' : [t.encrypt, t.decrypt, t.verify, t.jobs, t.minerCompute, t.rest].map(v => v?.toFixed(1) ?? '—').join(' | ')
    lines.push('', 'Where a token\'s time goes (ms per token, summed over jobs; a round\'s parallel jobs overlap; he-local\'s jobs are its in-tab miner worker):', '', '| model | link | path | plan | run | encrypt | decrypt | Freivalds | jobs, send to results | of which donors\' compute | rest |', '|---|---|---|---|---|---|---|---|---|---|---|')
    for (const x of timed) {
      lines.push(`| ${x.model} | ${x.link} | ${x.path} | ${x.plan} | mesh | ${cells(x.timePerToken)} |`)
      lines.push(`| ${x.model} | ${x.link} | ${x.path} | ${x.plan} | he-local | ${cells(x.heLocalTimePerToken)} |`)
    }
  }
  if (r.relay !== undefined) lines.push('', `relay: ${r.relay.peers} peers making reservations — p50 ${r.relay.p50Ms.toFixed(1)} ms, p99 ${r.relay.p99Ms.toFixed(1)} ms`)
  return lines.join('\n') + '\n'
}
