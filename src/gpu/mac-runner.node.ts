/**
 * The GPU multiply-accumulate in Node, on onnxruntime-node: the CPU EP (exact, slow: the
 * tests' reference runtime for the graph) or its bundled WebGPU EP (Dawn), which needs a
 * Vulkan loader (libvulkan.so.1) and a Vulkan driver for the GPU. Nothing is downloaded:
 * onnxruntime-node's CUDA binaries come from outside the npm registry and stay off.
 *
 * Measured on the 2-core development box (no GPU, no libvulkan): the WebGPU EP fails with
 * "Failed to get a WebGPU adapter: No supported adapters" after Dawn's "Couldn't load
 * Vulkan: libvulkan.so.1". With Chromium's own loader and SwiftShader ICD
 * (LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json)
 * it finds a software adapter and runs the graph exactly.
 */
import ort from 'onnxruntime-node'
import { GpuUnavailableError } from '../core/gpu/index.ts'
import { createGpuMacWith, type GpuMac, type MacShape, type OrtRuntime } from './mac-runner.ts'
import { startGpuMacEngine, type GpuEngineStart } from './mac-engine.ts'

/** Options of {@link createGpuMac}. */
export interface NodeGpuMacOptions {
  /** Execution provider (default 'cpu'). */
  readonly ep?: 'cpu' | 'webgpu'
  /** onnxruntime's own log level for the session: 0 verbose … 4 fatal (default 3). Logs go to stderr. */
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4
}

function adapterName (ep: 'cpu' | 'webgpu'): string {
  if (ep === 'cpu') return 'cpu'
  const icd = process.env.VK_ICD_FILENAMES ?? ''
  return `dawn-vulkan${icd === '' ? '' : ` (${icd.split('/').pop() ?? icd})`}`
}

/** The onnxruntime-node runtime for `ep`. */
export function nodeOrtRuntime (opts: NodeGpuMacOptions = {}): OrtRuntime {
  const ep = opts.ep ?? 'cpu'
  return {
    backend: ep,
    adapter: adapterName(ep),
    linearOp: ep === 'webgpu' ? 'Gemm' : 'MatMul',
    async createSession (model) {
      try {
        const session = await ort.InferenceSession.create(model, { executionProviders: [ep], logSeverityLevel: opts.logSeverityLevel ?? 3, graphOptimizationLevel: 'all' })
        return { run: feeds => session.run(feeds as ort.InferenceSession.FeedsType), release: () => session.release() }
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err)
        if (ep === 'webgpu' && /adapter/i.test(msg)) throw new GpuUnavailableError(`no WebGPU adapter for onnxruntime-node (${msg.split('\n')[0]}); it needs libvulkan.so.1 and a Vulkan driver`, err)
        throw err
      }
    },
    tensor: (data, dims) => new ort.Tensor('int32', data, [...dims])
  }
}

/**
 * A GPU multiply-accumulate for `shape` on onnxruntime-node.
 * @throws {GpuGraphError} for an unsupported shape.
 */
export function createGpuMac (shape: MacShape, opts: NodeGpuMacOptions = {}): GpuMac {
  return createGpuMacWith(nodeOrtRuntime(opts), shape)
}

/** What {@link probeNodeWebGpu} found. */
export type NodeWebGpuProbe = { readonly ok: true, readonly adapter: string } | { readonly ok: false, readonly reason: string }

/**
 * Whether onnxruntime-node's WebGPU EP finds an adapter here: a session of a one-node
 * graph (what `cerberus miner --gpu` needs before it trusts the GPU; the self-test follows).
 */
export async function probeNodeWebGpu (): Promise<NodeWebGpuProbe> {
  const { createOnnxGraph } = await import('../core/gpu/index.ts')
  const g = createOnnxGraph('probe')
  const x = g.input('x', 'int32', [4])
  g.output(g.node('Add', [x, x], 'int32', [4]), 'y')
  try {
    const s = await ort.InferenceSession.create(g.encode(), { executionProviders: ['webgpu'], logSeverityLevel: 3 })
    await s.release()
    return { ok: true, adapter: adapterName('webgpu') }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err)
    const why = /Failed to get a WebGPU adapter[^\n]*/.exec(msg)?.[0] ?? msg.split('\n')[0]
    return { ok: false, reason: `WebGPU not available in onnxruntime-node: ${why} (Dawn needs libvulkan.so.1 and a Vulkan driver)` }
  }
}

/**
 * The headless miner's GPU engine: on the WebGPU EP (default), `probeNodeWebGpu` first —
 * "WebGPU not available in onnxruntime-node: …" where Dawn finds no adapter — then the
 * self-test; on the CPU EP (tests) the self-test alone.
 */
export async function startNodeGpuMacEngine (opts: NodeGpuMacOptions = {}): Promise<GpuEngineStart> {
  const ep = opts.ep ?? 'webgpu'
  return await startGpuMacEngine(shape => createGpuMac(shape, { ...opts, ep }), ep === 'webgpu' ? probeNodeWebGpu : undefined)
}
