/**
 * A GPU for tests: the real runner and engine over onnxruntime-node's CPU EP (the exact
 * graph a donor's WebGPU EP runs), with faults injected in the runtime underneath — a
 * wrong word from some run on, the device lost during a run, sessions that fail to
 * allocate. Runs and sessions count from 1: the self-test's come first.
 */
import type { GpuEngineStart } from '../gpu/mac-engine.ts'
import { startGpuMacEngine } from '../gpu/mac-engine.ts'
import { nodeOrtRuntime } from '../gpu/mac-runner.node.ts'
import { createGpuMacWith, type OrtRuntime } from '../gpu/mac-runner.ts'

/** What goes wrong, and when. */
export interface GpuFaults {
  /** Flip one word of every result from this run on (1: the self-test fails). */
  readonly lieFromRun?: number
  /** Lose the device during this run. */
  readonly loseAtRun?: number
  /** Fail to allocate every session after this many. */
  readonly oomAfterSessions?: number
}

/** A worker's GPU starter (HeServiceInit.startGpu) with `faults`; each call is a fresh device. */
export function gpuWithFaults (faults: GpuFaults = {}): () => Promise<GpuEngineStart> {
  const real = nodeOrtRuntime({ ep: 'cpu' })
  let sessions = 0
  let runs = 0
  let lose: (reason: string) => void = () => {}
  const lost = new Promise<string>(resolve => { lose = resolve })
  const runtime: OrtRuntime = {
    ...real,
    lost,
    async createSession (model) {
      if (faults.oomAfterSessions !== undefined && ++sessions > faults.oomAfterSessions) throw new Error('Failed to allocate memory for the initializers')
      const s = await real.createSession(model)
      return {
        release: () => s.release(),
        async run (feeds) {
          const n = ++runs
          if (n === faults.loseAtRun) {
            lose('destroyed: the GPU process crashed')
            throw new Error('Device was lost')
          }
          const out = await s.run(feeds)
          if (faults.lieFromRun !== undefined && n >= faults.lieFromRun) (out.y.data as Int32Array)[7] ^= 1
          return out
        }
      }
    }
  }
  return () => startGpuMacEngine(shape => createGpuMacWith(runtime, shape))
}
