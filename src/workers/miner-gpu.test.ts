/**
 * A miner worker on a GPU, through the real client, service and HE library: the GPU runs
 * the exact graph on onnxruntime-node's CPU EP (the graph a donor's WebGPU EP runs), with
 * faults injected in the runtime underneath the real runner (src/test/gpu-faults.ts) — a
 * wrong word, a device lost mid-job, an allocation that fails. Every job's results are compared byte for byte with a
 * CPU-only worker's, and decrypted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GpuUnavailableError } from '../core/gpu/index.ts'
import { makePlan, planMatvec, RING_PRESETS, type MatvecPlan } from '../core/he/index.ts'
import { matvecInt8 } from '../core/model/index.ts'
import { startGpuMacEngine } from '../gpu/mac-engine.ts'
import { probeNodeWebGpu } from '../gpu/mac-runner.node.ts'
import { prng, randomInt8 } from '../test/fixtures.ts'
import { gpuWithFaults } from '../test/gpu-faults.ts'
import { createHeMinerClient, createHeUserClient, type HeMinerClient, type HeUserClient } from './he-client.ts'
import { inThreadPort } from './he-port.in-thread.ts'
import { spawnNodeHeWorker } from './he-port.node.ts'
import { createMinerPool } from './he-pool.ts'
import type { GpuStarter } from './miner-gpu.ts'

const rand = prng(913)
let user: HeUserClient
let cpu: HeMinerClient
const closers: Array<() => void> = []
beforeAll(() => {
  user = createHeUserClient({ spawn: inThreadPort })
  cpu = createHeMinerClient({ spawn: inThreadPort })
  closers.push(user.close, cpu.close)
})
afterAll(() => { for (const c of closers) c() })

function gpuMiner (startGpu: GpuStarter | undefined, gpu = true): HeMinerClient {
  const m = createHeMinerClient({ spawn: () => inThreadPort(startGpu === undefined ? {} : { startGpu }), gpu })
  closers.push(m.close)
  return m
}

interface Matrix { id: string, plan: MatvecPlan, w: Int8Array, x: Int8Array, y: Int32Array, keyId?: string }

/** A job's matrix: `plan` is a plan, or makes one for the weights (packed plans are planned with them). */
function matrix (id: string, plan: MatvecPlan | ((w: Int8Array) => MatvecPlan), dOut = (plan as MatvecPlan).dOut, dIn = (plan as MatvecPlan).dIn): Matrix {
  const w = randomInt8(dOut * dIn, rand, 'extreme')
  if (typeof plan === 'function') plan = plan(w)
  const x = randomInt8(dIn, rand)
  const y = new Int32Array(dOut)
  matvecInt8(w, dOut, dIn, x, y)
  return { id, plan, w, x, y }
}

async function prepareBoth (miner: HeMinerClient, m: Matrix): Promise<Awaited<ReturnType<HeMinerClient['prepare']>>> {
  if (m.plan.scheme === 'packed') {
    const keys = await user.galoisKeys(m.plan)
    m.keyId = 'k'
    await cpu.loadKeys('k', m.plan, keys)
    await miner.loadKeys('k', m.plan, keys)
  }
  await cpu.prepare(m.id, m.plan, m.w)
  return await miner.prepare(m.id, m.plan, m.w)
}

/** One job on `miner` and on the CPU-only worker: byte-identical results that decrypt to W·x; how `miner` computed it. */
async function job (miner: HeMinerClient, m: Matrix): Promise<Awaited<ReturnType<HeMinerClient['computeTimed']>>['timing']> {
  const { ciphertexts, epoch } = await user.encrypt(m.plan, m.x.slice())
  const opts = m.keyId === undefined ? {} : { keyId: m.keyId }
  const want = await cpu.compute(m.id, ciphertexts.map(c => c.slice()), opts)
  const got = await miner.computeTimed(m.id, ciphertexts, opts)
  expect(got.results.map(r => Buffer.from(r).toString('hex'))).toEqual(want.map(r => Buffer.from(r).toString('hex')))
  expect(await user.decrypt(m.plan, got.results, epoch)).toEqual(m.y)
  return got.timing
}

describe('a miner worker on a GPU that passes the self-test', () => {
  it('computes coefficient and packed jobs there, byte-identical to the CPU, and says so per job', async () => {
    const miner = gpuMiner(gpuWithFaults())
    expect(await miner.device()).toEqual({ kind: 'gpu', adapter: 'cpu', backend: 'cpu' })
    const coeff = matrix('qkv', makePlan(90, 40, RING_PRESETS.testN256, 8))
    const packed = matrix('up', w => planMatvec(172, 64, { scheme: 'packed', weights: w }).plan, 172, 64)
    expect(packed.plan.scheme).toBe('packed')
    for (const m of [coeff, packed]) {
      expect(await prepareBoth(miner, m)).toMatchObject({ device: 'gpu' })
      const t = await job(miner, m)
      expect(t).toMatchObject({ device: 'gpu', worker: { kind: 'gpu' } })
      expect(t.gpuMs).toBeGreaterThan(0)
      expect(t.fallback).toBeUndefined()
    }
  }, 120_000)
})

describe('the CPU, saying why, when there is no GPU to trust', () => {
  it('no GPU runtime in the worker; the GPU not asked for', async () => {
    expect(await gpuMiner(undefined).device()).toEqual({ kind: 'cpu', reason: 'this worker has no GPU runtime' })
    expect(await gpuMiner(gpuWithFaults(), false).device()).toEqual({ kind: 'cpu', reason: 'GPU not requested' })
  })

  it('"WebGPU not available" when the runtime finds no adapter', async () => {
    const none: GpuStarter = () => startGpuMacEngine(() => { throw new GpuUnavailableError('WebGPU not available: this browser gives no GPU adapter') })
    const miner = gpuMiner(none)
    expect(await miner.device()).toEqual({ kind: 'cpu', reason: 'WebGPU not available: this browser gives no GPU adapter' })
    const m = matrix('o', makePlan(30, 30, RING_PRESETS.testN256, 10))
    expect(await prepareBoth(miner, m)).toMatchObject({ device: 'cpu' })
    expect(await job(miner, m)).toMatchObject({ device: 'cpu', gpuMs: 0 })
  })

  it('"GPU self-test failed: results differed" for a GPU that returns one wrong word', async () => {
    const miner = gpuMiner(gpuWithFaults({ lieFromRun: 1 }))
    expect(await miner.device()).toEqual({ kind: 'cpu', reason: 'GPU self-test failed: results differed (1 of 24576 words)' })
    const m = matrix('down', makePlan(40, 60, RING_PRESETS.testN256, 12))
    await prepareBoth(miner, m)
    expect(await job(miner, m)).toMatchObject({ device: 'cpu' })
  })
})

describe('GPU failures lose nothing', () => {
  it('device lost mid-job: that job runs again on the CPU, the worker goes on on the CPU', async () => {
    const miner = gpuMiner(gpuWithFaults({ loseAtRun: 3 })) // run 1: the self-test; 2: the first job; 3: the second
    const m = matrix('qkv', makePlan(50, 30, RING_PRESETS.testN256, 10))
    expect(await prepareBoth(miner, m)).toMatchObject({ device: 'gpu' })
    expect(await job(miner, m)).toMatchObject({ device: 'gpu' })
    const lostJob = await job(miner, m)
    expect(lostJob).toMatchObject({ device: 'cpu', worker: { kind: 'cpu' } })
    expect(lostJob.fallback).toMatch(/^this job ran again on the CPU: GPU device lost while running a job: .*; every job computes on the CPU from now on$/)
    const after = await job(miner, m)
    expect(after.device).toBe('cpu')
    expect(after.fallback).toBeUndefined()
    expect(await miner.device()).toMatchObject({ kind: 'cpu', reason: expect.stringMatching(/^GPU device lost/) })
  })

  it('out of GPU memory while uploading weights: a typed error in the reply, that matrix on the CPU, the others on the GPU', async () => {
    const miner = gpuMiner(gpuWithFaults({ oomAfterSessions: 2 })) // the self-test's session, then one matrix fits
    const a = matrix('a', makePlan(30, 30, RING_PRESETS.testN256, 10))
    const b = matrix('b', makePlan(60, 20, RING_PRESETS.testN256, 10))
    expect(await prepareBoth(miner, a)).toMatchObject({ device: 'gpu' })
    const refused = await prepareBoth(miner, b)
    expect(refused.device).toBe('cpu')
    expect(refused.fallback).toMatch(/^GPU out of memory while uploading weights: Failed to allocate .*; matrix b computes on the CPU$/)
    expect(await job(miner, b)).toMatchObject({ device: 'cpu' })
    expect(await job(miner, a)).toMatchObject({ device: 'gpu' })
    expect(await miner.device()).toMatchObject({ kind: 'gpu' })
  })
})

describe('onnxruntime-node\'s WebGPU EP in a worker thread (what `cerberus miner --gpu` starts)', () => {
  it('computes on it when Dawn finds an adapter after the self-test; otherwise says why and computes on the CPU', async () => {
    const pool = createMinerPool({ spawn: () => spawnNodeHeWorker(), size: 1, gpu: true })
    closers.push(pool.close)
    const probe = await probeNodeWebGpu()
    const device = await pool.device()
    if (probe.ok) expect(device).toMatchObject({ kind: 'gpu', gpuWorkers: 1 })
    else {
      // This development box: no GPU and no libvulkan.so.1.
      expect(device).toEqual({ kind: 'cpu', reason: probe.reason, gpuWorkers: 0, workers: 1 })
      expect(device.reason).toMatch(/^WebGPU not available in onnxruntime-node: .*\(Dawn needs libvulkan\.so\.1 and a Vulkan driver\)$/)
    }
    const m = matrix('o', makePlan(30, 30, RING_PRESETS.n2048, 30))
    await cpu.prepare(m.id, m.plan, m.w)
    await pool.prepare(m.id, m.plan, m.w)
    const { ciphertexts, epoch } = await user.encrypt(m.plan, m.x.slice())
    expect(await user.decrypt(m.plan, await pool.compute(m.id, ciphertexts), epoch)).toEqual(m.y)
  }, 120_000)
})
