/**
 * The GPU multiply-accumulate in a browser, on onnxruntime-web's WebGPU EP (or its wasm
 * EP, for comparison). Worker-friendly: it touches no DOM, only `navigator.gpu`, which
 * dedicated workers have.
 *
 * onnxruntime-web finds its .wasm through the `?url` import below, which Vite resolves to
 * the file it serves (dev) or emits under a hashed name (build); onnxruntime-web is kept
 * out of Vite's pre-bundling (vite.config.ts) so its own `import.meta.url` stays valid too.
 * One wasm thread: the graph's work is on the GPU, and the comparison with the one-thread
 * WebAssembly kernel stays fair for the wasm EP.
 */
import * as ort from 'onnxruntime-web/webgpu'
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url'
import { GpuUnavailableError } from '../core/gpu/index.ts'
import { createGpuMacWith, type GpuMac, type MacShape, type OrtRuntime } from './mac-runner.ts'
import { startGpuMacEngine, type GpuEngineStart } from './mac-engine.ts'

/** Options of {@link createGpuMac}. */
export interface WebGpuMacOptions {
  /** Execution provider (default 'webgpu'). */
  readonly ep?: 'webgpu' | 'wasm'
  /** Log every node's placement and each program to the console (for the e2e placement check). */
  readonly verbose?: boolean
}

/** The WebGPU adapter's name, or null when there is none (no `navigator.gpu`, or no adapter). */
export async function webGpuAdapter (): Promise<string | null> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu
  if (gpu === undefined) return null
  const adapter = await gpu.requestAdapter().catch(() => null)
  if (adapter === null) return null
  const info = adapter.info
  return [info.description, info.architecture, info.vendor].filter(s => s !== '').join(' / ') || 'unknown adapter'
}

function configure (verbose: boolean): void {
  ort.env.wasm.numThreads = 1
  ort.env.wasm.wasmPaths = { wasm: ortWasmUrl }
  ort.env.logLevel = verbose ? 'verbose' : 'warning'
}

/**
 * The onnxruntime-web runtime for `ep`.
 * @throws {GpuUnavailableError} "WebGPU not available" when the browser has no adapter.
 */
export async function webOrtRuntime (opts: WebGpuMacOptions = {}): Promise<OrtRuntime> {
  const ep = opts.ep ?? 'webgpu'
  configure(opts.verbose === true)
  const adapter = ep === 'webgpu' ? await webGpuAdapter() : 'wasm (cpu)'
  if (adapter === null) throw new GpuUnavailableError('WebGPU not available: this browser gives no GPU adapter')
  let lost: Promise<string> | undefined
  return {
    backend: ep,
    adapter,
    linearOp: ep === 'webgpu' ? 'Gemm' : 'MatMul',
    get lost () { return lost },
    async createSession (model) {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: [ep],
        logSeverityLevel: opts.verbose === true ? 0 : 2,
        graphOptimizationLevel: 'all'
      })
      if (ep === 'webgpu' && lost === undefined) {
        // The device exists once the first session does; its `lost` promise is the only
        // signal of a device loss between jobs.
        const device = await ort.env.webgpu.device
        lost = device.lost.then(info => `${info.reason}: ${info.message}`)
      }
      return { run: feeds => session.run(feeds as ort.InferenceSession.FeedsType), release: () => session.release() }
    },
    tensor: (data, dims) => new ort.Tensor('int32', data, [...dims])
  }
}

/**
 * A GPU multiply-accumulate for `shape` in this browser.
 * @throws {GpuUnavailableError} without WebGPU; {GpuGraphError} for an unsupported shape.
 */
export async function createGpuMac (shape: MacShape, opts: WebGpuMacOptions = {}): Promise<GpuMac> {
  return createGpuMacWith(await webOrtRuntime(opts), shape)
}

/**
 * The donor worker's GPU engine: "WebGPU not available" without an adapter; otherwise the
 * self-test on it, and the engine if it passes.
 */
export async function startWebGpuMacEngine (opts: WebGpuMacOptions = {}): Promise<GpuEngineStart> {
  if (await webGpuAdapter() === null) return { ok: false, code: 'GPU_UNAVAILABLE', reason: 'WebGPU not available: this browser gives no GPU adapter' }
  return await startGpuMacEngine(shape => createGpuMac(shape, opts))
}
