import { describe, expect, it } from 'vitest'
import { GpuUnavailableError } from '../core/gpu/index.ts'
import { createGpuMac } from './mac-runner.node.ts'
import type { GpuMac } from './mac-runner.ts'
import { gpuSelfTest, SELF_TEST_SHAPE } from './self-test.ts'

describe('the GPU self-test', () => {
  it('passes on the exact graph (onnxruntime-node CPU EP)', async () => {
    const r = await gpuSelfTest(shape => createGpuMac(shape))
    expect(r).toMatchObject({ ok: true, adapter: 'cpu', backend: 'cpu' })
    expect(SELF_TEST_SHAPE).toMatchObject({ polyDegree: 2048, chunks: 4, blocks: 3, q: 18014398509404161n })
  })

  it('fails with "results differed" when one word of the result is wrong', async () => {
    const lying = (shape: typeof SELF_TEST_SHAPE): GpuMac => {
      const real = createGpuMac(shape)
      return {
        ...real,
        upload: w => real.upload(w),
        dispose: () => real.dispose(),
        async mac (x) {
          const y = await real.mac(x)
          y[12345] ^= 1
          return y
        }
      }
    }
    const r = await gpuSelfTest(lying)
    expect(r).toEqual({ ok: false, reason: 'GPU self-test failed: results differed (1 of 24576 words)' })
  })

  it('says "WebGPU not available" when the runtime has no adapter', async () => {
    const r = await gpuSelfTest(() => { throw new GpuUnavailableError('WebGPU not available: this browser gives no GPU adapter') })
    expect(r).toEqual({ ok: false, code: 'GPU_UNAVAILABLE', reason: 'WebGPU not available: this browser gives no GPU adapter' })
  })
})
