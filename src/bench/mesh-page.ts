/**
 * Test and benchmark pages for the browser app layer (bench.html):
 * - `?bench=donor&relay=ADDR&workers=N`: this tab donates (createDonor) and publishes its
 *   state on `window.cerberusDonor`;
 * - `?bench=client&relay=ADDR&steps=N&prompt=…&runs=R`: this tab is a user (createCerberusClient):
 *   it waits for `miners` miners, generates R times (greedy) and publishes the texts,
 *   receipts and every byte it sent to a miner on `window.cerberusClient`;
 *   `window.cerberusClientAgain()` generates once more (after the test stopped the relay);
 * - `?bench=helocal&steps=N&runs=R`: the baseline — the same private pipeline with user and miner
 *   workers both in this tab, no network, R generations (default 1); `local=ui` multiplies the local groups (the
 *   classifier) on the UI thread instead of in the user's worker, for comparison.
 * `rounds=fused|unfused` forces the plan's round layout (default: the planner's choice for the link).
 * `split=B` splits matrices of B or more output blocks across miners (the client's default
 * is 16). `model=URL&tokenizer=URL` pick another model than the default (the mesh benchmark's
 * synthetic shapes).
 *
 * `link=lan|wan` (default loopback: unshaped) is the link `bench mesh --link` simulates
 * (link-profiles.ts): the user (client, helocal) plans for it, and a client or donor tab
 * shapes every WebRTC data-channel message it sends (datachannel-shaping.ts).
 * `wsproxy=PORT-PROXYPORT,…` makes the client dial Node miners' announced ports through the
 * bench's shaped proxies (websocket-proxying.ts, tcp-proxy.ts).
 */
import { createCerberusClient, createDonor, createPrivateGeneration, localMinerLink, type AnswerReceipt, type CerberusClient, type DonorState, type ModelSource } from '../app/index.ts'
import { webDonorComponents } from '../app/platform-donor.web.ts'
import { webClientComponents } from '../app/platform.web.ts'
import { auditWire, concatBytes, type AuditReport } from '../net/wire-audit.ts'
import type { NetworkProfile } from '../core/he/index.ts'
import type { RoundsMode } from '../core/squeeze/index.ts'
import { plainIntMatvec, type IntMatrix } from '../core/engine/index.ts'
import { spawnWebHeWorker } from '../workers/he-port.web.ts'
import { createHeUserClient, createMinerPool } from '../workers/index.ts'
import { shapeDataChannelSends, type ChannelPrototype } from './datachannel-shaping.ts'
import { directionSpec, linkProfile, type LinkProfile } from './link-profiles.ts'
import { createLinkShaper } from './link-shaper.ts'
import { parsePortMap, proxyWebSockets } from './websocket-proxying.ts'

/** What the user page publishes. */
export interface ClientRunResult {
  readonly texts?: string[]
  readonly receipts?: AnswerReceipt[]
  /** Bytes of every frame sent to miners (the wire audit reads them from `window.cerberusSent`). */
  readonly sentFrames?: number
  /** Wire audits of the first run(s). */
  readonly audit?: { frames: AuditReport, dataChannels?: AuditReport }
  /** Per run: the longest task on this tab's UI thread while it generated (ms; 0: none over 50 ms, the browser's long-task floor). */
  readonly longestTaskMs?: number[]
  /** he-local with local=ui: time the local groups took on the UI thread (ms, the whole run). */
  readonly uiLocalMs?: number
  readonly error?: string
}

declare global {
  interface Window {
    cerberusDonor?: DonorState & { peerId?: string }
    cerberusClient?: ClientRunResult
    cerberusClientAgain?: () => Promise<{ text: string, receipt: AnswerReceipt }>
    cerberusSent?: Uint8Array[]
    /** Every text the user was shown, token by token (to prove no wrong token was shown). */
    cerberusSeen?: string[]
    cerberusApp?: CerberusClient
  }
}

/** Run the page the query string describes. */
export async function runAppPage (q: URLSearchParams, out: HTMLElement): Promise<void> {
  const relay = q.get('relay') ?? ''
  const fail = (err: unknown): void => {
    const e = err as Error & { code?: string }
    const msg = `${e.name}${e.code === undefined ? '' : ` ${e.code}`}: ${e.message}`
    out.textContent = msg
    if (q.get('bench') === 'donor') window.cerberusDonor = { ...(window.cerberusDonor as DonorState), status: 'error', error: { code: e.code ?? e.name, message: e.message } }
    else window.cerberusClient = { error: msg }
  }
  const model: ModelSource = q.get('model') === null ? { kind: 'default' } : { kind: 'url', model: q.get('model') as string, ...(q.get('tokenizer') === null ? {} : { tokenizer: q.get('tokenizer') as string }) }
  try {
    const link = linkProfile(q.get('link') ?? 'loopback')
    const rounds = roundsOf(q.get('rounds'))
    if (q.get('bench') === 'helocal') {
      window.cerberusClient = await runHeLocal(model, Number(q.get('steps') ?? '24'), q.get('prompt') ?? '', link.network, rounds, q.get('local') === 'ui', Number(q.get('runs') ?? '1'))
      return
    }
    shapeThisTab(link, q.get('wsproxy'))
    if (q.get('bench') === 'donor') {
      // ?gpu=1 lets the donor use WebGPU; off by default so the mesh benchmark measures the CPU donors it always did.
      const donor = createDonor({ relay, model, announceIntervalMs: Number(q.get('announce') ?? '2000'), gpu: q.get('gpu') === '1' }, webDonorComponents())
      donor.subscribe(s => { window.cerberusDonor = s; out.textContent = `donor ${s.status}: ${s.jobs} jobs` })
      await donor.start({ workers: Number(q.get('workers') ?? '1') })
      window.cerberusDonor = donor.getState()
      return
    }
    const sent: Uint8Array[] = []
    window.cerberusSent = sent
    const activations: Int8Array[] = []
    const tokens: number[] = [1] // BOS
    const split = q.get('split')
    const client = createCerberusClient({ relay, network: link.network, rounds, ...(split === null ? {} : { splitMinBlocks: Number(split) }), onSend: f => { sent.push(f.slice()) }, onQuantizedInput: (_m, xq) => { activations.push(xq.slice()) }, onToken: t => { tokens.push(t) } }, webClientComponents())
    window.cerberusApp = client
    client.subscribe(s => { out.textContent = `${s.status} ${s.progress?.label ?? ''} miners=${s.minersReady}` })
    await client.start(model)
    const want = Number(q.get('miners') ?? '1')
    const t0 = Date.now()
    while (client.getState().minersReady < want && Date.now() - t0 < 60_000) await new Promise(resolve => setTimeout(resolve, 100))
    const steps = Number(q.get('steps') ?? '24')
    const prompt = q.get('prompt') ?? ''
    const seen: string[] = []
    window.cerberusSeen = seen
    const once = async (): Promise<{ text: string, receipt: AnswerReceipt }> => {
      let text = ''
      const receipt = await client.generate(prompt, { temperature: 0, topp: 0.9, maxTokens: steps }, { onText: t => { text += t; seen.push(text); out.textContent = text } })
      return { text, receipt }
    }
    const runs = Number(q.get('runs') ?? '1')
    const texts: string[] = []
    const receipts: AnswerReceipt[] = []
    const longestTaskMs: number[] = []
    for (let i = 0; i < runs; i++) {
      const watch = watchLongTasks()
      const r = await once()
      longestTaskMs.push(watch.stop())
      texts.push(r.text)
      receipts.push(r.receipt)
    }
    window.cerberusClientAgain = once
    // The privacy audit: the frames sent to miners, and — when the test captured them — every
    // byte sent on WebRTC data channels (all protocols; plaintext to JavaScript).
    const rtc = (window as unknown as { rtcSent?: Uint8Array[] }).rtcSent
    const secrets = { prompt, tokens, activations }
    const audit = { frames: auditWire(concatBytes(sent), secrets), ...(rtc === undefined ? {} : { dataChannels: auditWire(concatBytes(rtc), secrets) }) }
    window.cerberusClient = { texts, receipts, sentFrames: sent.length, audit, longestTaskMs }
  } catch (err) {
    fail(err)
  }
}

/**
 * This tab's side of the simulated link: what it sends on data channels waits on its
 * uplink's shaper; Node miners' ports are dialled through the bench's proxies.
 */
function shapeThisTab (link: LinkProfile, wsproxy: string | null): void {
  const spec = directionSpec(link)
  if (spec !== undefined) shapeDataChannelSends(RTCDataChannel.prototype as unknown as ChannelPrototype, createLinkShaper(spec))
  if (wsproxy !== null) proxyWebSockets(parsePortMap(wsproxy))
}

/** The `rounds` query: a forced layout, or the planner's choice. */
function roundsOf (v: string | null): RoundsMode {
  if (v === null || v === 'auto') return 'auto'
  if (v === 'fused' || v === 'unfused') return v
  throw new RangeError(`rounds=${v}: expected auto, fused or unfused`)
}

/** The baseline: user worker + miner worker in this tab, the same plan and pipeline as the mesh client (no link). */
async function runHeLocal (source: ModelSource, steps: number, prompt: string, network: NetworkProfile, rounds: RoundsMode, localOnUiThread: boolean, runs: number): Promise<ClientRunResult> {
  const components = webClientComponents()
  const model = await components.loadModel(source)
  const user = createHeUserClient({ spawn: spawnWebHeWorker })
  const miner = createMinerPool({ spawn: spawnWebHeWorker, size: 1 })
  try {
    // local=ui: the local groups on this thread, as before they ran in the user's worker (the benchmark's baseline of that)
    let uiLocalMs = 0
    const onUiThread = async (_id: string, m: IntMatrix, xqs: readonly Int8Array[]): Promise<Int32Array[]> => {
      const t0 = performance.now()
      const ys = xqs.map(x => plainIntMatvec(m, x))
      uiLocalMs += performance.now() - t0
      return ys
    }
    const session = localOnUiThread ? { ...user, localMatvecs: onUiThread } : user
    const gen = await createPrivateGeneration(model, { session, miners: localMinerLink(miner, 'he-local') }, { network, squeeze: { rounds } })
    // runs=2: the second is the steady state the mesh's second run is compared with (the first
    // also builds what the miner encodes on first use, e.g. the prefill plans' encodings)
    const texts: string[] = []
    const receipts: AnswerReceipt[] = []
    const longestTaskMs: number[] = []
    for (let i = 0; i < Math.max(1, runs); i++) {
      let text = ''
      const watch = watchLongTasks()
      const receipt = await gen.generate(prompt, { temperature: 0, topp: 0.9, seed: 1, maxTokens: steps }, { onText: t => { text += t } })
      longestTaskMs.push(watch.stop())
      texts.push(text)
      receipts.push({ ...receipt, miners: [] })
    }
    await gen.close()
    return { texts, receipts, longestTaskMs, ...(localOnUiThread ? { uiLocalMs } : {}) }
  } finally {
    user.close()
    miner.close()
  }
}

/** Watch this tab's UI thread for long tasks (≥ 50 ms, the Long Tasks API); `stop` gives the longest seen (0: none). */
function watchLongTasks (): { stop: () => number } {
  let longest = 0
  const observer = new PerformanceObserver(list => { for (const e of list.getEntries()) longest = Math.max(longest, e.duration) })
  observer.observe({ type: 'longtask' })
  return {
    stop () {
      for (const e of observer.takeRecords()) longest = Math.max(longest, e.duration)
      observer.disconnect()
      return longest
    }
  }
}
