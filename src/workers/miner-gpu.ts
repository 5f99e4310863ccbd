/**
 * A miner worker's GPU: the engine (src/gpu/mac-engine.ts) once its self-test passed, each
 * prepared matrix's weights on it, and the fallback policy. The WebAssembly kernel keeps
 * every matrix too — it is the reference and the fallback, so a GPU failure never loses a
 * job (issue 13):
 * - no GPU runtime, no adapter, a failed self-test ⇒ the worker computes on the CPU and
 *   says why ("WebGPU not available: …", "GPU self-test failed: results differed (…)");
 * - the device lost during a job ⇒ that job runs again on the CPU, and so does every later
 *   one (a lost device does not come back to this worker);
 * - out of GPU memory while uploading a matrix's weights (or any other GPU failure of one
 *   matrix) ⇒ that matrix computes on the CPU, the others stay on the GPU;
 * - a GPU that passes the self-test and later computes wrongly is not detected here: the
 *   user's Freivalds check rejects its results and drops this miner like any liar.
 */
import { CerberusError } from '../core/errors.ts'
import type { GaloisKeyHandle, HeMiner, LoadedMac, PreparedMatrix } from '../core/he/index.ts'
import type { GpuEngineStart, GpuMacEngine } from '../gpu/mac-engine.ts'
import type { JobTiming, MinerDevice } from './he-protocol.ts'

/** Starts a worker's GPU engine, self-test included (a platform's: mac-runner.web.ts / .node.ts). */
export type GpuStarter = () => Promise<GpuEngineStart>

/** The reason a worker that was never asked to use its GPU gives. */
export const GPU_NOT_REQUESTED = 'GPU not requested'

/** A miner worker's GPU state. */
export interface MinerGpu {
  /** What the worker computes on now. */
  readonly device: MinerDevice
  /** Start the engine (once): the device it found, or why the CPU. */
  start: () => Promise<MinerDevice>
  /** Put a prepared matrix's weights on the GPU, if there is one; where its jobs will run. */
  load: (matrixId: string, miner: HeMiner, matrix: PreparedMatrix) => Promise<{ device: 'gpu' | 'cpu', fallback?: string }>
  /** Compute a job: on the GPU when its matrix is there, else (or when the GPU fails) on the kernel. */
  compute: (matrixId: string, miner: HeMiner, matrix: PreparedMatrix, inputs: Uint8Array[], keys?: GaloisKeyHandle) => Promise<{ results: Uint8Array[], timing: JobTiming }>
  /** Free a matrix's weights on the GPU. */
  release: (matrixId: string) => Promise<void>
}

/** Whether `err` is the GPU's own failure (core/gpu's errors: GPU_UNAVAILABLE, GPU_DEVICE_LOST, …). */
export function isGpuFailure (err: unknown): err is CerberusError {
  return err instanceof CerberusError && err.code.startsWith('GPU_')
}

/** The GPU state of one worker; `starter` undefined: this worker has no GPU runtime. */
export function createMinerGpu (starter: GpuStarter | undefined): MinerGpu {
  let engine: GpuMacEngine | undefined
  let device: MinerDevice = { kind: 'cpu', reason: GPU_NOT_REQUESTED }
  let starting: Promise<MinerDevice> | undefined
  const loaded = new Map<string, LoadedMac>()

  const release = async (matrixId: string): Promise<void> => {
    const mac = loaded.get(matrixId)
    loaded.delete(matrixId)
    await mac?.dispose().catch(() => undefined)
  }
  /** The GPU is gone for this worker: every matrix computes on the kernel from now on. */
  const off = async (reason: string): Promise<void> => {
    engine = undefined
    device = { kind: 'cpu', reason }
    const all = [...loaded.keys()]
    await Promise.all(all.map(release))
  }
  /** Apply the policy to a GPU failure of `matrixId`; what happens now, to report. */
  const failed = async (err: CerberusError, matrixId: string): Promise<string> => {
    if (err.code === 'GPU_DEVICE_LOST') {
      const reason = `${err.message}; every job computes on the CPU from now on`
      await off(reason)
      return reason
    }
    await release(matrixId)
    return `${err.message}; matrix ${matrixId} computes on the CPU`
  }

  return {
    get device () { return device },
    start () {
      starting ??= (async () => {
        if (starter === undefined) {
          device = { kind: 'cpu', reason: 'this worker has no GPU runtime' }
          return device
        }
        let s: GpuEngineStart
        try {
          s = await starter()
        } catch (err) {
          s = { ok: false, reason: `GPU self-test failed: ${err instanceof Error ? err.message : String(err)}` }
        }
        if (s.ok) {
          engine = s.engine
          device = { kind: 'gpu', adapter: s.engine.adapter, backend: s.engine.backend }
        } else device = { kind: 'cpu', reason: s.reason }
        return device
      })()
      return starting
    },
    async load (matrixId, miner, matrix) {
      await release(matrixId)
      if (engine === undefined) return { device: 'cpu' }
      const { layout, weights } = miner.macWeights(matrix)
      try {
        loaded.set(matrixId, await engine.load(layout, weights))
        return { device: 'gpu' }
      } catch (err) {
        if (!isGpuFailure(err)) throw err
        return { device: 'cpu', fallback: await failed(err, matrixId) }
      }
    },
    async compute (matrixId, miner, matrix, inputs, keys) {
      const mac = loaded.get(matrixId)
      let fallback: string | undefined
      if (mac !== undefined) {
        let gpuMs = 0
        const timed: LoadedMac = {
          heapBytes: mac.heapBytes,
          dispose: () => mac.dispose(),
          async mac (x) {
            const t = performance.now()
            try {
              return await mac.mac(x)
            } finally {
              gpuMs += performance.now() - t
            }
          }
        }
        const t0 = performance.now()
        try {
          const results = await miner.computeWith(matrix, inputs, timed, keys)
          return { results, timing: { device: 'gpu', gpuMs, cpuMs: performance.now() - t0 - gpuMs, worker: device } }
        } catch (err) {
          if (!isGpuFailure(err)) throw err
          fallback = `this job ran again on the CPU: ${await failed(err, matrixId)}`
        }
      }
      const t1 = performance.now()
      const results = miner.compute(matrix, inputs, keys)
      return { results, timing: { device: 'cpu', gpuMs: 0, cpuMs: performance.now() - t1, worker: device, ...(fallback === undefined ? {} : { fallback }) } }
    },
    release
  }
}
