/**
 * The start-up self-test a donor (or `cerberus miner --gpu`) runs before it trusts a GPU:
 * one known job — 4 chunks × 3 blocks at N = 2048 on today's 54-bit prime, seeded, with
 * the extreme residues mixed in — on the GPU and on the WebAssembly kernel, compared word
 * for word. A GPU that fails it is not used; one that passes and later returns a wrong
 * result is caught by the user's Freivalds check like any other liar.
 */
import { CerberusError } from '../core/errors.ts'
import { knownJob } from '../core/gpu/index.ts'
import type { MacShape } from '../core/gpu/index.ts'
import { nttPrime } from '../core/gpu/index.ts'
import { createWasmMac } from '../core/gpu/index.ts'
import type { GpuBackend, GpuMac } from './mac-runner.ts'

/** The self-test's job shape: N and prime of the n2048 preset, a small matrix. */
export const SELF_TEST_SHAPE: MacShape = Object.freeze({ q: nttPrime(54, 2048), polyDegree: 2048, chunks: 4, blocks: 3 })
/** The seed of its job (any fixed value; changing it changes nothing but the numbers). */
export const SELF_TEST_SEED = 13

/** What the self-test found; `reason` is the line the donor panel shows. */
export type GpuSelfTestResult =
  | { readonly ok: true, readonly adapter: string, readonly backend: GpuBackend, readonly ms: number, readonly uploadMs: number }
  | { readonly ok: false, readonly reason: string, readonly code?: string }

/** Run the self-test on a runner made by `create` (it is disposed afterwards). */
export async function gpuSelfTest (create: (shape: MacShape) => GpuMac | Promise<GpuMac>, shape: MacShape = SELF_TEST_SHAPE): Promise<GpuSelfTestResult> {
  const job = knownJob(shape, SELF_TEST_SEED)
  let gpu: GpuMac | undefined
  try {
    gpu = await create(shape)
    const t0 = performance.now()
    await gpu.upload(job.weights)
    const t1 = performance.now()
    const got = await gpu.mac(job.inputs)
    const ms = performance.now() - t1
    const want = createWasmMac(shape, job.weights).mac(job.inputs)
    let differ = 0
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differ++
    if (differ > 0 || got.length !== want.length) return { ok: false, reason: `GPU self-test failed: results differed (${differ} of ${want.length} words)` }
    return { ok: true, adapter: gpu.adapter, backend: gpu.backend, ms, uploadMs: t1 - t0 }
  } catch (err) {
    const code = err instanceof CerberusError ? err.code : undefined
    const msg = err instanceof Error ? err.message : String(err)
    return { ok: false, code, reason: msg.startsWith('WebGPU not available') ? msg : `GPU self-test failed: ${msg}` }
  } finally {
    await gpu?.dispose().catch(() => undefined)
  }
}
