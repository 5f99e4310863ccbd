import { describe, expect, it } from 'vitest'
import { GpuDeviceLostError, GpuOutOfMemoryError, GpuUnavailableError } from '../core/gpu/index.ts'
import { knownJob } from '../core/gpu/index.ts'
import { nttPrime } from '../core/gpu/index.ts'
import { nodeOrtRuntime } from './mac-runner.node.ts'
import { classifyGpuError, createGpuMacWith, type OrtRuntime } from './mac-runner.ts'

const shape = { q: nttPrime(54, 2048), polyDegree: 16, chunks: 2, blocks: 2 }

describe('the runner turns runtime failures into the typed errors the donor falls back on', () => {
  it('classifies out-of-memory, device-lost and other failures', () => {
    expect(classifyGpuError('x', new Error('Failed to allocate a buffer of size 4294967296'))).toBeInstanceOf(GpuOutOfMemoryError)
    expect(classifyGpuError('x', new Error('Device was lost: destroyed'))).toBeInstanceOf(GpuDeviceLostError)
    expect(classifyGpuError('x', new Error('anything'), 'unknown: the GPU process crashed')).toBeInstanceOf(GpuDeviceLostError)
    expect(classifyGpuError('x', new Error('shader compilation failed'))).toMatchObject({ code: 'GPU_UNAVAILABLE' })
  })

  it('a session that fails to allocate is GPU_OUT_OF_MEMORY; a device lost after upload fails the next job with GPU_DEVICE_LOST', async () => {
    const real = nodeOrtRuntime()
    let loseDevice: (reason: string) => void = () => {}
    const lost = new Promise<string>(resolve => { loseDevice = resolve })
    let failAllocation = true
    const runtime: OrtRuntime = {
      ...real,
      lost,
      createSession: async model => {
        if (failAllocation) throw new Error('Failed to allocate memory for the initializers')
        return await real.createSession(model)
      }
    }
    const gpu = createGpuMacWith(runtime, shape)
    const job = knownJob(shape, 4)
    await expect(gpu.upload(job.weights)).rejects.toBeInstanceOf(GpuOutOfMemoryError)
    failAllocation = false
    await gpu.upload(job.weights)
    expect(gpu.heapBytes).toBe(2 * 2 * 16 * 5 * 4)
    expect((await gpu.mac(job.inputs)).length).toBe(2 * 2 * 16 * 2)
    loseDevice('destroyed: the device was reset')
    await lost
    await expect(gpu.mac(job.inputs)).rejects.toBeInstanceOf(GpuDeviceLostError)
    await gpu.dispose()
  })

  it('a run that throws is a typed error, and the runner serves the next job', async () => {
    const real = nodeOrtRuntime()
    let calls = 0
    const runtime: OrtRuntime = {
      ...real,
      createSession: async model => {
        const s = await real.createSession(model)
        return { release: () => s.release(), run: async feeds => { if (calls++ === 0) throw new Error('mapAsync failed'); return await s.run(feeds) } }
      }
    }
    const gpu = createGpuMacWith(runtime, shape)
    const job = knownJob(shape, 5)
    await gpu.upload(job.weights)
    await expect(gpu.mac(job.inputs)).rejects.toBeInstanceOf(GpuUnavailableError)
    expect((await gpu.mac(job.inputs)).length).toBe(2 * 2 * 16 * 2)
    await gpu.dispose()
  })
})
