/**
 * The app's client and miner node without a browser: a real relay, real libp2p peers on
 * loopback WebSockets, real SEAL (in-thread HE ports), the real stories260K model — only
 * the platform differs from the browser's (components injected).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRelay, type Relay } from '../../signaling-server/relay.ts'
import { squeezedEngine } from '../core/engine/index.ts'
import { NETWORKS, type NetworkProfile } from '../core/he/index.ts'
import { createEngine, createRng, createSampler, generate, type LogitsEngine } from '../core/model/index.ts'
import { squeezeModel, type RoundsMode } from '../core/squeeze/index.ts'
import { createPeer, type CerberusPeer } from '../net/peer.ts'
import { loadModelFiles } from '../node/model-files.ts'
import { inThreadPort } from '../workers/he-port.in-thread.ts'
import { createMinerPool, type MinerPool } from '../workers/index.ts'
import { createCerberusClient, type ClientComponents } from './client.ts'
import { createLocalGeneration, type LocalGenerationOptions } from './local-generation.ts'
import { startMinerNode, type MinerNode } from './miner-node.ts'
import type { LoadedModel } from './model-source.ts'
import type { CerberusClient } from './types.ts'

interface Miner { node: MinerNode, peer: CerberusPeer, pool: MinerPool }

let relay: Relay
let model: LoadedModel
const miners: Miner[] = []
const clients: CerberusClient[] = []

async function startMiner (tamper?: 'flip'): Promise<Miner> {
  const privateKey = await generateKeyPair('Ed25519')
  const peer = await createPeer({ listenPort: 0, privateKey })
  const pool = createMinerPool({ spawn: inThreadPort, size: 1 })
  const node = await startMinerNode({
    model: { name: model.name, sha256: model.sha256, squeezed: squeezeModel(model.ckpt) },
    privateKey,
    relays: [multiaddr(relay.multiaddrs[0])],
    capacity: 1,
    addrs: () => peer.getMultiaddrs().map(String),
    announceIntervalMs: 500,
    tamper
  }, { peer, compute: pool })
  const m = { node, peer, pool }
  miners.push(m)
  return m
}

async function stopMiner (m: Miner): Promise<void> {
  await m.node.stop()
  await m.peer.stop()
  m.pool.close()
}

const components: ClientComponents = {
  createPeer: async (privateKey) => await createPeer({ privateKey }),
  spawnHeWorker: inThreadPort,
  loadModel: async () => model
}

async function readyClient (want: number, network?: NetworkProfile, rounds?: RoundsMode): Promise<CerberusClient> {
  const client = createCerberusClient({ relay: relay.multiaddrs[0], ...(network === undefined ? {} : { network }), ...(rounds === undefined ? {} : { rounds }) }, components)
  clients.push(client)
  await client.start({ kind: 'default' })
  const t0 = Date.now()
  // exactly `want`: a miner stopped by an earlier test may still be listed for a moment, and a
  // machine busy with other test files prepares a session's matrices slowly (one CI run: 20 s was short)
  while (client.getState().minersReady !== want && Date.now() - t0 < 60_000) await new Promise(resolve => setTimeout(resolve, 50))
  expect(client.getState().minersReady).toBe(want)
  return client
}

function w8a8Text (tokens: number, engine: LogitsEngine = createEngine('w8a8', model.ckpt)): string {
  const dec = new TextDecoder()
  let text = ''
  for (const t of generate(engine, model.tokenizer, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: '', steps: tokens })) text += dec.decode(t.bytes, { stream: true })
  return text + dec.decode()
}

beforeAll(async () => {
  relay = await startRelay({ port: 0, healthPort: 0 })
  model = await loadModelFiles()
})

afterAll(async () => {
  for (const c of clients) await c.stop().catch(() => {})
  for (const m of miners) await stopMiner(m).catch(() => {})
  await relay.stop()
})

describe('the client (app layer, no browser)', () => {
  it('finds two miners through the relay and generates exactly the w8a8 text, with a receipt', async () => {
    await startMiner()
    await startMiner()
    const client = await readyClient(2)
    let text = ''
    const receipt = await client.generate('', { temperature: 0, topp: 0.9, maxTokens: 24 }, { onText: t => { text += t } })
    expect(text).toBe(w8a8Text(24))
    // the lan plan is unfused: 4 rounds per layer (the classifier runs locally)
    expect(receipt).toMatchObject({ tokens: 24, rejected: 0, keyRotations: 0, layout: 'unfused', rounds: 24 * 4 * model.ckpt.config.nLayers })
    expect(receipt.verified).toBeGreaterThan(24 * 10) // 20 encrypted matrices per token on stories260K, minus the local classifier
    expect(receipt.bytesUp).toBeGreaterThan(0)
    expect(receipt.bytesDown).toBeGreaterThan(0)
    // where the jobs' time went: the user's HE worker and the jobs' round trips
    const time = receipt.time as NonNullable<typeof receipt.time>
    for (const ms of Object.values(time)) expect(ms).toBeGreaterThan(0)
    expect(time.encryptMs + time.decryptMs + time.jobsMs).toBeLessThan(receipt.ms) // one job per round on lan: no overlap
    const ids = new Set(miners.map(m => m.node.peerId))
    expect(receipt.miners.length).toBeGreaterThan(0)
    for (const m of receipt.miners) expect(ids.has(m.peerId)).toBe(true)
    expect(receipt.miners.reduce((a, m) => a + m.jobs, 0)).toBe(receipt.verified)
    const views = client.getState().peers
    expect(views.find(v => v.role === 'relay')).toBeDefined()
    expect(views.filter(v => v.role === 'miner' && v.connection === 'websocket').length).toBe(2)
    // while a model loads (planned in a worker of its own), the model in use answers — the same
    // text — and the switch waits for that answer before it swaps; a second load is refused, typed
    const order: string[] = []
    const loading = client.loadModel({ kind: 'default' }).then(() => { order.push('loaded') })
    let during = ''
    const answered = client.generate('', { temperature: 0, topp: 0.9, maxTokens: 24 }, { onText: t => { during += t } }).then(() => { order.push('answered') })
    await expect(client.generate('', { temperature: 0, topp: 0.9, maxTokens: 4 }, { onText: () => {} })).rejects.toMatchObject({ name: 'ClientBusyError', message: 'an answer is already being generated' })
    await expect(client.loadModel({ kind: 'default' })).rejects.toMatchObject({ name: 'ClientBusyError', message: 'a model is being loaded already' })
    await Promise.all([loading, answered])
    expect(during).toBe(text)
    expect(order).toEqual(['answered', 'loaded'])
    let again = ''
    await client.generate('', { temperature: 0, topp: 0.9, maxTokens: 24 }, { onText: t => { again += t } })
    expect(again).toBe(text)
  })

  it('plans for the network it is given: on wan the fused plan, 2 round trips per layer + 1, its twin\'s text', async () => {
    const client = await readyClient(2, NETWORKS.wan)
    let text = ''
    const receipt = await client.generate('', { temperature: 0, topp: 0.9, maxTokens: 8 }, { onText: t => { text += t } })
    const sq = squeezeModel(model.ckpt, { network: NETWORKS.wan })
    expect(sq.layout.rounds).toBe('fused')
    expect(text).toBe(w8a8Text(8, squeezedEngine(sq)))
    expect(receipt).toMatchObject({ tokens: 8, rejected: 0, layout: 'fused', rounds: 8 * (2 * model.ckpt.config.nLayers + 1) })
    // a local answer runs the same plan (the wan one), so it is its text — which parts from the
    // lan plan's within 24 tokens ("…loved to play outside…" against "…play with her toys…")
    let local = ''
    await client.generate('', { temperature: 0, topp: 0.9, maxTokens: 24 }, { mode: 'local', onText: t => { local += t } })
    expect(local).toBe(w8a8Text(24, squeezedEngine(sq)))
    expect(local).not.toBe(w8a8Text(24))
  })

  it('a forced round layout: fused on lan when asked for, its twin\'s text, private and local alike', async () => {
    const client = await readyClient(2, undefined, 'fused')
    let text = ''
    const receipt = await client.generate('', { temperature: 0, topp: 0.9, maxTokens: 8 }, { onText: t => { text += t } })
    const fused = squeezedEngine(squeezeModel(model.ckpt, { network: NETWORKS.lan, rounds: 'fused' }))
    expect(text).toBe(w8a8Text(8, fused))
    expect(receipt).toMatchObject({ tokens: 8, rejected: 0, layout: 'fused', rounds: 8 * (2 * model.ckpt.config.nLayers + 1) })
    let local = ''
    await client.generate('', { temperature: 0, topp: 0.9, maxTokens: 24 }, { mode: 'local', onText: t => { local += t } })
    expect(local).toBe(w8a8Text(24, squeezedEngine(squeezeModel(model.ckpt, { network: NETWORKS.lan, rounds: 'fused' }))))
    expect(local).not.toBe(w8a8Text(24))
  })

  it('a miner that goes away mid-answer: the answer completes with the same text on the other', async () => {
    const client = await readyClient(2)
    let text = ''
    let stopped = false
    const receipt = await client.generate('', { temperature: 0, topp: 0.9, maxTokens: 24 }, {
      onText: t => {
        text += t
        if (!stopped && text.length > 20) { stopped = true; void stopMiner(miners[0]) }
      }
    })
    expect(stopped).toBe(true)
    expect(text).toBe(w8a8Text(24))
    expect(receipt.rejected).toBe(0)
  })

  it('a lying miner: its results are rejected, the keys rotate, it is dropped, the text is exact; a stopped answer says so', async () => {
    const liar = await startMiner('flip')
    const client = await readyClient(2)
    let text = ''
    const receipt = await client.generate('', { temperature: 0, topp: 0.9, maxTokens: 16 }, { onText: t => { text += t } })
    expect(text).toBe(w8a8Text(16))
    expect(receipt.rejected).toBeGreaterThan(0)
    // every rejection replaced the user's keys (in her HE worker) before anything more was encrypted
    expect(receipt.keyRotations).toBe(receipt.rejected)
    expect(client.getState().peers.find(p => p.peerId === liar.node.peerId)?.dropped).toBe('rejected')
    const controller = new AbortController()
    let partial = ''
    const cut = await client.generate('', { temperature: 0, topp: 0.9, maxTokens: 24 }, { signal: controller.signal, onText: t => { partial += t; controller.abort() } })
    expect(cut.stopped).toBe(true)
    expect(w8a8Text(24).startsWith(partial)).toBe(true)
    expect(cut.miners.every(m => m.peerId !== liar.node.peerId)).toBe(true)
  })

  it('local mode: with no miner at all, answers from the loaded model alone — the w8a8 text, nothing sent', async () => {
    for (const m of miners.splice(0)) await stopMiner(m).catch(() => {})
    // no miner at all: the earlier tests' miners stop first (one CI run saw 3 still ready)
    for (const m of miners.splice(0)) await stopMiner(m).catch(() => {})
    const sent: Uint8Array[] = []
    const client = createCerberusClient({ relay: relay.multiaddrs[0], onSend: f => { sent.push(f) } }, components)
    clients.push(client)
    void client.start({ kind: 'default' }).catch(() => {})
    const t0 = Date.now()
    while (client.getState().model === undefined && Date.now() - t0 < 20_000) await new Promise(resolve => setTimeout(resolve, 50))
    expect(client.getState().minersReady).toBe(0)
    let text = ''
    const receipt = await client.generate('', { temperature: 0, topp: 0.9, maxTokens: 24 }, { mode: 'local', onText: t => { text += t } })
    // the client's local engine runs the private pipeline's plan (lan); its twin is the w8a8 engine's text here too
    expect(text).toBe(w8a8Text(24))
    expect(receipt).toMatchObject({ tokens: 24, local: true, bytesUp: 0, verified: 0, miners: [] })
    expect(sent).toEqual([])
    // a page's local engine (a worker there) is handed the private pipeline's plan options
    const asked: LocalGenerationOptions[] = []
    const wan = createCerberusClient({ relay: relay.multiaddrs[0], network: NETWORKS.wan, rounds: 'fused' }, { ...components, localGeneration: (m, o) => { asked.push(o); return createLocalGeneration(m, o) } })
    clients.push(wan)
    void wan.start({ kind: 'default' }).catch(() => {})
    while (wan.getState().model === undefined && Date.now() - t0 < 40_000) await new Promise(resolve => setTimeout(resolve, 50))
    let wanText = ''
    await wan.generate('', { temperature: 0, topp: 0.9, maxTokens: 24 }, { mode: 'local', onText: t => { wanText += t } })
    expect(asked).toEqual([{ network: NETWORKS.wan, squeeze: { rounds: 'fused' } }])
    expect(wanText).toBe(w8a8Text(24, squeezedEngine(squeezeModel(model.ckpt, { network: NETWORKS.wan, rounds: 'fused' }))))
  })
})
