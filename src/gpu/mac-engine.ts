/**
 * The GPU runner as the HE miner's MAC engine (core/he/mac-engine.ts): one {@link GpuMac}
 * per prepared matrix, its weights uploaded once, and a start that a donor or
 * `cerberus miner --gpu` trusts only after the self-test (a known job, word for word
 * against the WebAssembly kernel) has passed on this very device.
 *
 * The platform siblings wrap it: `startWebGpuMacEngine` (mac-runner.web.ts, onnxruntime-web
 * WebGPU in a browser worker) and `startNodeGpuMacEngine` (mac-runner.node.ts,
 * onnxruntime-node's WebGPU EP after `probeNodeWebGpu`, or its CPU EP in tests).
 *
 * @example
 * ```ts
 * const start = await startGpuMacEngine(shape => createGpuMac(shape))
 * if (!start.ok) console.log(start.reason)          // "GPU self-test failed: results differed (…)"
 * else await miner.computeWith(matrix, inputs, await start.engine.load(w.layout, w.weights))
 * ```
 */
import type { LoadedMac, MacEngine, MacLayout } from '../core/he/index.ts'
import type { GpuBackend, GpuMac, MacShape } from './mac-runner.ts'
import { gpuSelfTest } from './self-test.ts'

/** Makes a runner for a shape (a platform's createGpuMac, or a test's). */
export type GpuMacFactory = (shape: MacShape) => GpuMac | Promise<GpuMac>

/** A MAC engine on a GPU runtime. */
export interface GpuMacEngine extends MacEngine {
  readonly adapter: string
  readonly backend: GpuBackend
}

/** What starting the GPU found: an engine whose device passed the self-test, or why not. */
export type GpuEngineStart =
  | { readonly ok: true, readonly engine: GpuMacEngine, readonly selfTestMs: number }
  | { readonly ok: false, readonly reason: string, readonly code?: string }

/** The engine over `create`'s runners (no self-test: {@link startGpuMacEngine} runs it first). */
export function gpuMacEngine (create: GpuMacFactory, device: { readonly adapter: string, readonly backend: GpuBackend }): GpuMacEngine {
  return {
    name: `${device.backend}: ${device.adapter}`,
    ...device,
    async load (layout: MacLayout, weights: Uint32Array): Promise<LoadedMac> {
      const gpu = await create(layout)
      try {
        await gpu.upload(weights)
      } catch (err) {
        await gpu.dispose().catch(() => undefined)
        throw err
      }
      return {
        heapBytes: gpu.heapBytes,
        mac: inputs => gpu.mac(inputs),
        dispose: () => gpu.dispose()
      }
    }
  }
}

/**
 * Run the self-test on `create`'s device; on a pass, the engine over it.
 * `probe` first says whether there is a device at all (Node's WebGPU EP: probeNodeWebGpu).
 */
export async function startGpuMacEngine (create: GpuMacFactory, probe?: () => Promise<{ ok: true } | { ok: false, reason: string }>): Promise<GpuEngineStart> {
  const found = await probe?.()
  if (found !== undefined && !found.ok) return { ok: false, reason: found.reason, code: 'GPU_UNAVAILABLE' }
  const test = await gpuSelfTest(create)
  if (!test.ok) return test
  return { ok: true, engine: gpuMacEngine(create, { adapter: test.adapter, backend: test.backend }), selfTestMs: test.uploadMs + test.ms }
}
