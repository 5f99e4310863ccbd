/**
 * onnxruntime-node's WebGPU EP (Dawn) runs the graph exactly too. This machine has no GPU
 * and no system Vulkan loader, so the test borrows Chromium's (libvulkan.so.1 and the
 * SwiftShader ICD it ships); Dawn reads LD_LIBRARY_PATH only at process start, hence the
 * child process. Skipped where Chromium's SwiftShader Vulkan is not installed.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const CHROMIUM_DIR = '/usr/lib/chromium'
const ICD = `${CHROMIUM_DIR}/vk_swiftshader_icd.json`

const SCRIPT = `
import { createGpuMac } from './src/gpu/mac-runner.node.ts'
import { gpuSelfTest } from './src/gpu/self-test.ts'
import { knownJob } from './src/core/gpu/known-job.ts'
import { nttPrime } from './src/core/gpu/ntt-prime.ts'
import { createWasmMac } from './src/core/gpu/wasm-mac.ts'
const self = await gpuSelfTest(s => createGpuMac(s, { ep: 'webgpu', logSeverityLevel: 0 }))
const shape = { q: nttPrime(54, 2048), polyDegree: 64, chunks: 30, blocks: 3 }
const job = knownJob(shape, 5, 'extreme')
const gpu = createGpuMac(shape, { ep: 'webgpu', logSeverityLevel: 0 })
await gpu.upload(job.weights)
const got = await gpu.mac(job.inputs)
const want = createWasmMac(shape, job.weights).mac(job.inputs)
await gpu.dispose()
console.log(JSON.stringify({ self, exact: got.length === want.length && got.every((v, i) => v === want[i]) }))
`

describe.skipIf(!existsSync(ICD))('onnxruntime-node WebGPU EP (SwiftShader Vulkan borrowed from Chromium)', () => {
  it('passes the self-test and an all-(q − 1) job, every node placed on the WebGPU EP', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', SCRIPT], {
      env: { ...process.env, LD_LIBRARY_PATH: CHROMIUM_DIR, VK_ICD_FILENAMES: ICD },
      maxBuffer: 256 * 2 ** 20,
      timeout: 110_000
    })
    const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { self: { ok: boolean, backend?: string }, exact: boolean }
    expect(result.self).toMatchObject({ ok: true, backend: 'webgpu' })
    expect(result.exact).toBe(true)
    const placements = stderr.split('\n').filter(l => /placed on \[/.test(l))
    expect(placements).toHaveLength(2)
    for (const l of placements) expect(l).toMatch(/All nodes placed on \[WebGpuExecutionProvider\]/)
  })
})
