/**
 * The donor role without a browser: a real relay, real libp2p peers on loopback
 * WebSockets, real SEAL in in-thread workers, the real stories260K model, and a "GPU" that
 * runs the exact graph on onnxruntime-node's CPU EP with faults injected underneath the
 * real runner (src/test/gpu-faults.ts). A user's answers are always the w8a8 text: the GPU
 * computes jobs exactly, a GPU lost mid-job hands its job to the CPU, and a GPU that lies
 * after passing its self-test is caught by the user's Freivalds check and dropped.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startRelay, type Relay } from '../../signaling-server/relay.ts'
import { createEngine, createRng, createSampler, generate } from '../core/model/index.ts'
import { squeezeModel } from '../core/squeeze/index.ts'
import { createPeer } from '../net/peer.ts'
import { loadModelFiles } from '../node/model-files.ts'
import { gpuWithFaults, type GpuFaults } from '../test/gpu-faults.ts'
import { inThreadPort } from '../workers/he-port.in-thread.ts'
import { createMinerPool } from '../workers/index.ts'
import { createCerberusClient, type ClientComponents } from './client.ts'
import { createDonor } from './donor.ts'
import { MINER_SQUEEZE, startMinerNode } from './miner-node.ts'
import type { LoadedModel } from './model-source.ts'
import type { CerberusClient, Donor } from './types.ts'

let relay: Relay
let model: LoadedModel
const stops: Array<() => Promise<void>> = []

beforeAll(async () => { model = await loadModelFiles() })
// A relay per test: the mesh forgets a stopped donor only when its announcement expires.
beforeEach(async () => { relay = await startRelay({ port: 0, healthPort: 0 }) })
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s().catch(() => {})
  await relay.stop()
})

/** A started donor whose workers get a GPU with `faults` (none: a GPU that works), or none when `webgpu` is false. */
async function startDonor (faults: GpuFaults | undefined, webgpu = true): Promise<Donor> {
  const donor = createDonor({ relay: relay.multiaddrs[0], announceIntervalMs: 500 }, {
    createPeer: async (privateKey) => {
      const peer = await createPeer({ listenPort: 0, privateKey })
      return { peer, ready: async () => {}, addrs: () => peer.getMultiaddrs().map(String) }
    },
    spawnHeWorker: () => inThreadPort(faults === undefined ? {} : { startGpu: gpuWithFaults(faults) }),
    loadModel: async () => model,
    webgpuAvailable: async () => webgpu
  })
  stops.push(() => donor.stop())
  await donor.start({ workers: 1 })
  return donor
}

/** An honest headless miner on the CPU. */
async function startCpuMiner (): Promise<void> {
  const privateKey = await generateKeyPair('Ed25519')
  const peer = await createPeer({ listenPort: 0, privateKey })
  const pool = createMinerPool({ spawn: inThreadPort, size: 1 })
  const node = await startMinerNode({
    model: { name: model.name, sha256: model.sha256, squeezed: squeezeModel(model.ckpt, MINER_SQUEEZE) },
    privateKey,
    relays: [multiaddr(relay.multiaddrs[0])],
    capacity: 1,
    addrs: () => peer.getMultiaddrs().map(String),
    announceIntervalMs: 500
  }, { peer, compute: pool })
  stops.push(async () => { await node.stop(); await peer.stop(); pool.close() })
}

async function readyClient (want: number): Promise<CerberusClient> {
  const components: ClientComponents = { createPeer: async (privateKey) => await createPeer({ privateKey }), spawnHeWorker: inThreadPort, loadModel: async () => model }
  const client = createCerberusClient({ relay: relay.multiaddrs[0] }, components)
  stops.push(() => client.stop())
  await client.start({ kind: 'default' })
  const t0 = Date.now()
  while (client.getState().minersReady < want && Date.now() - t0 < 20_000) await new Promise(resolve => setTimeout(resolve, 50))
  expect(client.getState().minersReady).toBe(want)
  return client
}

function w8a8Text (tokens: number): string {
  const dec = new TextDecoder()
  let text = ''
  for (const t of generate(createEngine('w8a8', model.ckpt), model.tokenizer, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: '', steps: tokens })) text += dec.decode(t.bytes, { stream: true })
  return text + dec.decode()
}

async function answer (client: CerberusClient, tokens: number): Promise<{ text: string, receipt: Awaited<ReturnType<CerberusClient['generate']>> }> {
  let text = ''
  const receipt = await client.generate('', { temperature: 0, topp: 0.9, maxTokens: tokens }, { onText: t => { text += t } })
  return { text, receipt }
}

describe('a donor on a GPU', () => {
  it('passes the self-test and computes every job there: the w8a8 text, the donor in the receipt, GPU and CPU time per job', async () => {
    const donor = await startDonor({})
    expect(donor.getState()).toMatchObject({ status: 'on', device: 'gpu', deviceReason: 'cpu: cpu' })
    const client = await readyClient(1)
    const { text, receipt } = await answer(client, 8)
    expect(text).toBe(w8a8Text(8))
    expect(receipt.rejected).toBe(0)
    expect(receipt.miners.map(m => m.peerId)).toEqual([donor.getState().peerId])
    const t = donor.getState().timings
    expect(t?.jobs).toBe(receipt.verified)
    expect(t?.gpuJobs).toBe(t?.jobs)
    expect(t?.last).toMatchObject({ device: 'gpu' })
    expect(t?.gpuMs).toBeGreaterThan(0)
  }, 120_000)

  it('device lost mid-job: that job runs again on the CPU, the answer is exact and nothing is rejected; the donor goes on, on the CPU, saying why', async () => {
    const donor = await startDonor({ loseAtRun: 10 }) // run 1 is the self-test: lost during the 9th GPU job
    const client = await readyClient(1)
    const { text, receipt } = await answer(client, 8)
    expect(text).toBe(w8a8Text(8))
    expect(receipt.rejected).toBe(0)
    const s = donor.getState()
    expect(s.device).toBe('cpu')
    expect(s.deviceReason).toMatch(/^GPU device lost while running a job: .*; every job computes on the CPU from now on$/)
    expect(s.timings?.gpuJobs).toBe(8)
    expect(s.timings?.jobs).toBe(receipt.verified)
    expect(s.status).toBe('on')
  }, 120_000)

  it('a GPU that lies after passing the self-test: the user\'s Freivalds check rejects its results and drops the donor like any liar; the text is exact', async () => {
    await startCpuMiner()
    const liar = await startDonor({ lieFromRun: 2 })
    expect(liar.getState().device).toBe('gpu')
    const client = await readyClient(2)
    const { text, receipt } = await answer(client, 8)
    expect(text).toBe(w8a8Text(8))
    expect(receipt.rejected).toBeGreaterThan(0)
    expect(client.getState().peers.find(p => p.peerId === liar.getState().peerId)?.dropped).toBe('rejected')
  }, 120_000)
})

describe('a donor on the CPU, saying why', () => {
  it('"WebGPU not available" where the platform has none; "GPU self-test failed" for a GPU that gets it wrong', async () => {
    expect(await startDonor({}, false).then(d => d.getState())).toMatchObject({ device: 'cpu', deviceReason: 'WebGPU not available' })
    const wrong = await startDonor({ lieFromRun: 1 })
    expect(wrong.getState()).toMatchObject({ status: 'on', device: 'cpu', deviceReason: 'GPU self-test failed: results differed (1 of 24576 words)' })
    const client = await readyClient(2)
    const { text, receipt } = await answer(client, 4)
    expect(text).toBe(w8a8Text(4))
    expect(receipt.rejected).toBe(0)
  }, 120_000)
})
