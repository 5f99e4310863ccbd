/**
 * A miner in this process or its own workers, as the engine's {@link MinerLink}: the
 * he-local baseline of the benchmarks (user and miner workers in one tab), and tools. Its
 * compute is any miner service's (a worker pool); the prepared plans are kept here.
 */
import type { MinerLink } from '../core/engine/index.ts'
import type { MinerCompute } from '../net/miner-service.ts'

/** A MinerLink that computes with `compute` directly (no network). */
export function localMinerLink (compute: MinerCompute, name = 'local'): MinerLink {
  return {
    name,
    prepare: async (id, plan, w) => { await compute.prepare(id, plan, w) },
    async compute (id, inputs) {
      const t0 = performance.now()
      const bytesSent = inputs.reduce((a, c) => a + c.byteLength, 0)
      const results = await compute.compute(id, inputs)
      return { results, minerMs: performance.now() - t0, miner: name, bytesSent }
    }
  }
}
