/**
 * Test and benchmark pages for the browser app layer (bench.html):
 * - `?bench=donor&relay=ADDR&workers=N`: this tab donates (createDonor) and publishes its
 *   state on `window.cerberusDonor`;
 * - `?bench=client&relay=ADDR&steps=N&prompt=…&runs=R`: this tab is a user (createCerberusClient):
 *   it waits for `miners` miners, generates R times (greedy) and publishes the texts,
 *   receipts and every byte it sent to a miner on `window.cerberusClient`;
 *   `window.cerberusClientAgain()` generates once more (after the test stopped the relay);
 * - `?bench=helocal&steps=N`: the baseline — the same private pipeline with user and miner
 *   workers both in this tab, no network.
 * `split=B` splits matrices of B or more output blocks across miners (the client's default
 * is 16). `model=URL&tokenizer=URL` pick another model than the default (the mesh benchmark's
 * synthetic shapes).
 */
import { createCerberusClient } from '../app/client.ts'
import { createDonor } from '../app/donor.ts'
import type { AnswerReceipt, CerberusClient, DonorState, ModelSource } from '../app/types.ts'
import { loadModelSource } from '../app/model-source.ts'
import { generateAsync, heBackend, privateEngine } from '../core/engine/index.ts'
import { NETWORKS } from '../core/he/planner.ts'
import { createRng, createSampler } from '../core/model/index.ts'
import { squeezeModel } from '../core/squeeze/squeeze.ts'
import { createHeMinerClient, createHeUserClient } from '../workers/he-client.ts'
import { spawnWebHeWorker } from '../workers/he-port.web.ts'
import { auditWire, concatBytes, type AuditReport } from '../net/wire-audit.ts'

/** What the user page publishes. */
export interface ClientRunResult {
  readonly texts?: string[]
  readonly receipts?: AnswerReceipt[]
  /** Bytes of every frame sent to miners (the wire audit reads them from `window.cerberusSent`). */
  readonly sentFrames?: number
  /** Wire audits of the first run(s). */
  readonly audit?: { frames: AuditReport, dataChannels?: AuditReport }
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
  const model: ModelSource = q.get('model') === null ? { kind: 'default' } : { kind: 'url', model: q.get('model') as string, tokenizer: q.get('tokenizer') ?? '' }
  try {
    if (q.get('bench') === 'helocal') {
      window.cerberusClient = await runHeLocal(model, Number(q.get('steps') ?? '24'), q.get('prompt') ?? '')
      return
    }
    if (q.get('bench') === 'donor') {
      const donor = createDonor({ relay, model, announceIntervalMs: Number(q.get('announce') ?? '2000') })
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
    const client = createCerberusClient({ relay, ...(split === null ? {} : { splitMinBlocks: Number(split) }), onSend: f => { sent.push(f.slice()) }, onQuantizedInput: (_m, xq) => { activations.push(xq.slice()) }, onToken: t => { tokens.push(t) } })
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
    for (let i = 0; i < runs; i++) {
      const r = await once()
      texts.push(r.text)
      receipts.push(r.receipt)
    }
    window.cerberusClientAgain = once
    // The privacy audit: the frames sent to miners, and — when the test captured them — every
    // byte sent on WebRTC data channels (all protocols; plaintext to JavaScript).
    const rtc = (window as unknown as { rtcSent?: Uint8Array[] }).rtcSent
    const secrets = { prompt, tokens, activations }
    const audit = { frames: auditWire(concatBytes(sent), secrets), ...(rtc === undefined ? {} : { dataChannels: auditWire(concatBytes(rtc), secrets) }) }
    window.cerberusClient = { texts, receipts, sentFrames: sent.length, audit }
  } catch (err) {
    fail(err)
  }
}

/** The baseline: user worker + miner worker in this tab, the same plan as the mesh client. */
async function runHeLocal (source: ModelSource, steps: number, prompt: string): Promise<ClientRunResult> {
  const m = await loadModelSource(source, { base: '/models/default/' })
  const sq = squeezeModel(m.ckpt, { network: NETWORKS.lan })
  const user = createHeUserClient({ spawn: spawnWebHeWorker })
  const miner = createHeMinerClient({ spawn: spawnWebHeWorker })
  const backend = await heBackend(sq, user, {
    name: 'he-local',
    prepare: async (id, plan, w) => await miner.prepare(id, plan, w),
    compute: async (id, inputs) => {
      const t0 = performance.now()
      const results = await miner.compute(id, inputs)
      return { results, minerMs: performance.now() - t0 }
    }
  })
  const t0 = performance.now()
  let text = ''
  let tokens = 0
  const decoder = new TextDecoder()
  for await (const t of generateAsync(privateEngine(sq.params, backend), m.tokenizer, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt, steps })) {
    if (t.fromPrompt) continue
    tokens++
    text += decoder.decode(t.bytes, { stream: true })
  }
  const st = backend.stats
  user.close()
  miner.close()
  return { texts: [text], receipts: [{ tokens, ms: performance.now() - t0, bytesUp: st.bytesUp, bytesDown: st.bytesDown, verified: st.verified, rejected: st.rejected, miners: [] }] }
}
