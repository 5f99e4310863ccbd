import { describe, expect, it } from 'vitest'
import { GpuGraphError, GpuJobError } from '../core/gpu/index.ts'
import { knownJob, type JobFill } from '../core/gpu/index.ts'
import { MAX_TILE_BYTES, type MacShape } from '../core/gpu/index.ts'
import { nttPrime } from '../core/gpu/index.ts'
import { createWasmMac } from '../core/gpu/index.ts'
import { prng } from '../core/prng.ts'
import { createGpuMac } from './mac-runner.node.ts'

/** The graph on onnxruntime-node's CPU EP against the WebAssembly kernel, word for word. */
async function expectSameAsKernel (shape: MacShape, fill: JobFill, seed = 1): Promise<void> {
  const job = knownJob(shape, seed, fill)
  const gpu = createGpuMac(shape)
  try {
    await gpu.upload(job.weights)
    const got = await gpu.mac(job.inputs)
    const want = createWasmMac(shape, job.weights).mac(job.inputs)
    expect(got.length).toBe(want.length)
    let differ = 0
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differ++
    expect(differ).toBe(0)
  } finally {
    await gpu.dispose()
  }
}

describe('the exact MAC graph on onnxruntime-node (CPU EP) equals the WebAssembly kernel', () => {
  // Insecure small rings, today's and the other presets' primes, and odd widths that
  // move the limb count (4, 5, 6 limbs) and the top limb's width.
  for (const [bits, n] of [[50, 256], [58, 1024], [54, 2048], [60, 4096], [34, 64], [44, 64], [45, 64], [55, 64], [61, 64]] as const) {
    it(`all residues q − 1 (${bits}-bit q, N = ${n} ring, 6 chunks × 3 blocks at N = 64)`, async () => {
      await expectSameAsKernel({ q: nttPrime(bits, n), polyDegree: 64, chunks: 6, blocks: 3 }, 'extreme')
    })
  }

  it('random shapes and residues, extremes mixed in', async () => {
    const rand = prng(2026)
    for (let i = 0; i < 6; i++) {
      const bits = 34 + Math.floor(rand() * 28)
      const n = 2 ** (2 + Math.floor(rand() * 6))
      const shape = { q: nttPrime(bits, n), polyDegree: n, chunks: 1 + Math.floor(rand() * 20), blocks: 1 + Math.floor(rand() * 6) }
      await expectSameAsKernel(shape, 'mixed', i)
    }
  })

  it('more chunks than one pair sum holds (130 > 102: pairs kept apart) and than one accumulator (600 > 512)', async () => {
    const q = nttPrime(54, 2048)
    await expectSameAsKernel({ q, polyDegree: 8, chunks: 130, blocks: 2 }, 'extreme')
    await expectSameAsKernel({ q, polyDegree: 4, chunks: 600, blocks: 1 }, 'extreme')
  })

  it('a 768×768 job: N = 2048, 12 chunks × 24 blocks, today’s 54-bit prime', async () => {
    await expectSameAsKernel({ q: nttPrime(54, 2048), polyDegree: 2048, chunks: 12, blocks: 24 }, 'mixed', 7)
  })

  it('N = 4096 with a 54-bit prime, 3 chunks × 48 blocks (the coming preset’s data prime)', async () => {
    await expectSameAsKernel({ q: nttPrime(54, 4096), polyDegree: 4096, chunks: 3, blocks: 48 }, 'mixed', 8)
  })

  it('more blocks than one tile holds: tiles of blocks concatenated in order', async () => {
    const shape = { q: nttPrime(54, 2048), polyDegree: 2048, chunks: 2, blocks: Math.ceil(MAX_TILE_BYTES / (2 * 2048 * 25 * 4)) + 3 }
    await expectSameAsKernel(shape, 'mixed', 9)
  })
})

describe('typed errors', () => {
  const shape = { q: nttPrime(54, 2048), polyDegree: 16, chunks: 2, blocks: 2 }

  it('for wrong input and weight sizes, residues ≥ q, and a job before any weights', async () => {
    const gpu = createGpuMac(shape)
    const job = knownJob(shape, 3)
    await expect(gpu.mac(job.inputs)).rejects.toThrow(/no weights uploaded/)
    await expect(gpu.upload(job.weights.subarray(2))).rejects.toThrow(GpuJobError)
    await gpu.upload(job.weights)
    await expect(gpu.mac(job.inputs.subarray(0, 10))).rejects.toThrow(/10 words, expected 128/)
    const bad = job.inputs.slice()
    bad[1] = 0xffffffff
    await expect(gpu.mac(bad)).rejects.toMatchObject({ code: 'GPU_JOB' })
    expect((await gpu.mac(job.inputs)).length).toBe(2 * 2 * 16 * 2)
    await gpu.dispose()
  })

  it('for shapes and primes the graph does not support', () => {
    expect(() => createGpuMac({ ...shape, chunks: 0 })).toThrow(GpuGraphError)
    expect(() => createGpuMac({ ...shape, polyDegree: 1.5 })).toThrow(GpuGraphError)
    expect(() => createGpuMac({ ...shape, q: (1n << 62n) + 1n })).toThrow(/34–61 bits/)
  })
})
