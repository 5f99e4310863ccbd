/**
 * The HE miner's ciphertexts are bit-identical whether its multiply-accumulate runs in the
 * WebAssembly kernel (`compute`) or on the GPU graph (`computeWith` over onnxruntime-node's
 * CPU EP — the same graph a donor's WebGPU EP runs): coefficient and packed plans, small
 * insecure rings with zero blocks, batches and block ranges, and real-size matrices on the
 * 128-bit presets. Every result also decrypts to the int8 matvec.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHeMiner, createHeUser, loadSeal, makePackedPlan, makePlan, planMatvec, RING_PRESETS, type GaloisKeyHandle, type HeMiner, type HeUser, type MatvecPlan, type RingPreset } from '../core/he/index.ts'
import { packedLayout, packedPlainModulus } from '../core/he/index.ts'
import { matrixInputNoiseBits } from '../core/he/packed-noise.ts'
import { matvecInt8 } from '../core/model/index.ts'
import { prng, randomInt8 } from '../test/fixtures.ts'
import { gpuMacEngine } from './mac-engine.ts'
import { createGpuMac, startNodeGpuMacEngine } from './mac-runner.node.ts'

let user: HeUser
let miner: HeMiner
const keys = new Map<string, GaloisKeyHandle>()
const engine = gpuMacEngine(shape => createGpuMac(shape, { ep: 'cpu' }), { adapter: 'cpu', backend: 'cpu' })

beforeAll(async () => {
  const seal = await loadSeal()
  user = createHeUser(seal)
  miner = createHeMiner(seal)
})
afterAll(() => {
  user.dispose()
  miner.dispose()
})

function keysFor (plan: MatvecPlan): GaloisKeyHandle | undefined {
  if (plan.scheme !== 'packed') return undefined
  const id = plan.params.preset.name
  let k = keys.get(id)
  if (k === undefined) {
    k = miner.loadGaloisKeys(user.galoisKeys(plan), plan)
    keys.set(id, k)
  }
  return k
}

/** A packed plan whose noise bound is the matrix's own (as packed.test.ts plans them). */
function packedPlan (w: Int8Array, dOut: number, dIn: number, preset: RingPreset, nI: number, b: number, v: number, batch: number, t: number): MatvecPlan {
  const m = Math.log2(preset.polyDegree / nI)
  const L = packedLayout(dOut, dIn, preset.polyDegree, { m, orbitLevels: b, vectors: v, batch })
  const bits = matrixInputNoiseBits(L, w, { polyDegree: preset.polyDegree, plainModulus: 0, dataBits: preset.coeffBits[0], specialBits: preset.coeffBits[1] })
  return makePackedPlan(dOut, dIn, preset, { nI, orbitLevels: b, vectors: v, batch, plainModulus: t, noiseBits16: b === 0 ? undefined : Math.max(0, Math.ceil(16 * bits)) })
}

function reference (w: Int8Array, plan: MatvecPlan, x: Int8Array): Int32Array {
  const y = new Int32Array(plan.dOut)
  matvecInt8(w, plan.dOut, plan.dIn, x, y)
  return y
}

/**
 * Prepare `w` (blocks `prepared`), compute the job on the kernel and on the engine (the
 * whole prepared range and `part` of it), and hold the result bytes equal; decrypt them.
 */
async function expectIdentical (plan: MatvecPlan, w: Int8Array, xs: readonly Int8Array[], prepared?: readonly [number, number], part?: readonly [number, number]): Promise<Uint8Array[]> {
  const m = miner.prepare(plan, w, prepared)
  const k = keysFor(plan)
  const { layout, weights } = miner.macWeights(m)
  const loaded = await engine.load(layout, weights)
  try {
    const up = user.encryptBatch(plan, xs)
    const cpu = miner.compute(m, up, k)
    const gpu = await miner.computeWith(m, up, loaded, k)
    expect(gpu.length).toBe(cpu.length)
    gpu.forEach((r, i) => { expect(Buffer.from(r).equals(Buffer.from(cpu[i]))).toBe(true) })
    if (part !== undefined) {
      const a = miner.compute(m, up, k, part)
      const b = await miner.computeWith(m, up, loaded, k, part)
      expect(b.map(r => Buffer.from(r).toString('hex'))).toEqual(a.map(r => Buffer.from(r).toString('hex')))
    }
    if (prepared === undefined) expect(user.decryptBatch(plan, gpu)).toEqual(xs.map(x => reference(w, plan, x)))
    return gpu
  } finally {
    await loaded.dispose()
    m.delete()
  }
}

describe('coefficient plans: computeWith on the GPU graph == compute on the kernel, byte for byte', () => {
  const rand = prng(1313)
  const cases: Array<[number, number, number, RingPreset, 'random' | 'extreme' | 'sparse']> = [
    [5, 7, 7, RING_PRESETS.testN256, 'extreme'],
    [100, 37, 8, RING_PRESETS.testN256, 'random'],
    [300, 17, 3, RING_PRESETS.testN256, 'sparse'],
    [64, 64, 16, RING_PRESETS.testN1024, 'extreme']
  ]
  for (const [dOut, dIn, nI, preset, kind] of cases) {
    it(`${dOut}×${dIn}, n_i=${nI}, ${preset.name}, ${kind}`, async () => {
      const w = randomInt8(dOut * dIn, rand, kind)
      await expectIdentical(makePlan(dOut, dIn, preset, nI), w, [randomInt8(dIn, rand, kind === 'sparse' ? 'random' : kind)])
    })
  }

  it('all-zero blocks among non-zero ones (sent as zero ciphertexts either way)', async () => {
    const w = new Int8Array(40 * 30)
    for (let j = 0; j < 30; j++) w[35 * 30 + j] = j % 2 === 0 ? 127 : -127
    await expectIdentical(makePlan(40, 30, RING_PRESETS.testN256, 10), w, [randomInt8(30, rand)])
  })

  it('a batch of 3 vectors, a prepared block range and a part of it (a worker pool\'s split)', async () => {
    const plan = makePlan(90, 40, RING_PRESETS.testN256, 8, 3)
    const w = randomInt8(90 * 40, rand)
    const xs = [randomInt8(40, rand), randomInt8(40, rand, 'extreme'), randomInt8(40, rand)]
    await expectIdentical(plan, w, xs, undefined, [1, 3])
    await expectIdentical(plan, w, xs, [1, plan.split.blocks], [2, plan.split.blocks - 1])
  })

  it('real size: 768×768 on the 128-bit n2048 preset (12 chunks × 24 blocks)', async () => {
    const { plan } = planMatvec(768, 768, { presets: [RING_PRESETS.n2048], scheme: 'coeff' })
    expect(plan.split).toMatchObject({ chunks: 12, blocks: 24 })
    await expectIdentical(plan, randomInt8(768 * 768, rand, 'extreme'), [randomInt8(768, rand, 'extreme')])
  }, 120_000)
})

describe('packed plans: the merged leaves\' MAC on the GPU graph == on the kernel, byte for byte', () => {
  const rand = prng(4242)
  const t = packedPlainModulus(300, 256) // one plaintext modulus (and one key set) for the insecure cases
  const cases: Array<[number, number, number, number, number, number]> = [
    // dOut, dIn, n_i, b (orbit levels), vectors, batch
    [5, 7, 64, 1, 1, 1], [64, 64, 64, 2, 1, 1], [200, 128, 128, 2, 1, 1], [120, 60, 64, 0, 1, 2], [33, 200, 64, 3, 4, 5]
  ]
  for (const [dOut, dIn, nI, b, v, batch] of cases) {
    it(`${dOut}×${dIn}, n_i=${nI}, b=${b}, ${v} vectors/ct, batch ${batch}`, async () => {
      const w = randomInt8(dOut * dIn, rand, 'extreme')
      const plan = packedPlan(w, dOut, dIn, RING_PRESETS.testN256ks, nI, b, v, batch, t)
      await expectIdentical(plan, w, Array.from({ length: batch }, () => randomInt8(dIn, rand)))
    })
  }

  it('a prepared block range and a part of it', async () => {
    const w = randomInt8(400 * 50, rand)
    const plan = packedPlan(w, 400, 50, RING_PRESETS.testN256ks, 64, 2, 1, 2, t)
    const xs = [randomInt8(50, rand), randomInt8(50, rand)]
    await expectIdentical(plan, w, xs, undefined, [3, 17])
    await expectIdentical(plan, w, xs, [3, plan.split.blocks], [5, 9])
  })

  it('real size: stories260K\'s up projection (172×64) on the 128-bit n4096-ks preset, as the planner packs it', async () => {
    const w = randomInt8(172 * 64, rand, 'extreme')
    const { plan } = planMatvec(172, 64, { scheme: 'packed', weights: w })
    expect(plan).toMatchObject({ scheme: 'packed', params: { preset: { name: 'n4096-ks' } } })
    await expectIdentical(plan, w, [randomInt8(64, rand, 'extreme')])
  }, 120_000)
})

describe('the engine starts only after the self-test', () => {
  it('onnxruntime-node\'s CPU EP passes it and computes', async () => {
    const start = await startNodeGpuMacEngine({ ep: 'cpu' })
    expect(start).toMatchObject({ ok: true, engine: { adapter: 'cpu', backend: 'cpu', name: 'cpu: cpu' } })
  }, 60_000)
})
