/**
 * Several miner workers acting as one miner: each matrix's output blocks are split into
 * contiguous ranges, one per worker, so one job uses every core. The inputs go to every
 * worker (each needs all input chunks); the results come back in block order.
 */
import { splitBlocks } from '../core/he/index.ts'
import { createHeMinerClient, type HeClientOptions, type HeMinerClient } from './he-client.ts'
import type { WorkerMemory } from './he-protocol.ts'

/**
 * A pool of miner workers: one worker's interface ({@link HeMinerClient}; `prepare` splits
 * the blocks across the workers), and its size. It is what a miner service computes with
 * (net's `MinerCompute` seam).
 */
export interface MinerPool extends Omit<HeMinerClient, 'memory'> {
  readonly size: number
  /** Each worker's memory, in order. */
  memory: () => Promise<WorkerMemory[]>
  /** Jobs it computes at once (packed jobs run one per worker; coefficient jobs use every worker). */
  readonly parallel: number
}

/** Start `size` miner workers (default 2: the machines this runs on have 2 cores). */
export function createMinerPool (opts: HeClientOptions & { size?: number }): MinerPool {
  const size = Math.max(1, opts.size ?? 2)
  const workers: HeMinerClient[] = Array.from({ length: size }, () => createHeMinerClient(opts))
  const ranges = new Map<string, Array<[number, number]>>()
  // Packed matrices are prepared whole on every worker and each job goes to one worker: a
  // job split across workers would return one partial packing per worker (more bytes down).
  const whole = new Set<string>()
  const busy = new Array<number>(size).fill(0)
  return {
    size,
    parallel: size,
    async prepare (matrixId, plan, w, blocks) {
      const [first, end] = blocks ?? [0, plan.split.blocks]
      if (plan.scheme === 'packed') {
        whole.add(matrixId)
        ranges.delete(matrixId)
        const done = await Promise.all(workers.map(wk => wk.prepare(matrixId, plan, w, [first, end])))
        return { heapBytes: done.reduce((a, d) => a + d.heapBytes, 0) }
      }
      whole.delete(matrixId)
      const r = splitBlocks(end - first, size).map(([a, b]): [number, number] => [first + a, first + b])
      ranges.set(matrixId, r)
      const done = await Promise.all(workers.map((wk, i) => (r[i][0] < r[i][1] ? wk.prepare(matrixId, plan, w, r[i]) : Promise.resolve({ heapBytes: 0 }))))
      return { heapBytes: done.reduce((a, d) => a + d.heapBytes, 0) }
    },
    async compute (matrixId, inputs, opts) {
      if (whole.has(matrixId)) {
        const i = busy.indexOf(Math.min(...busy))
        busy[i]++
        try {
          return await workers[i].compute(matrixId, inputs, opts)
        } finally {
          busy[i]--
        }
      }
      const r = ranges.get(matrixId) ?? splitBlocks(0, size)
      const active = workers.map((wk, i) => ({ wk, range: r[i] })).filter(a => a.range[0] < a.range[1])
      const parts = await Promise.all(active.map((a, k) => a.wk.compute(matrixId, k === active.length - 1 ? inputs : inputs.map(b => b.slice()), opts)))
      return parts.flat()
    },
    async loadKeys (keyId, plan, keys) {
      const done = await Promise.all(workers.map(wk => wk.loadKeys(keyId, plan, keys)))
      return { heapBytes: done.reduce((a, d) => a + d.heapBytes, 0) }
    },
    async releaseKeys (keyId) {
      await Promise.all(workers.map(wk => wk.releaseKeys(keyId)))
    },
    async release (matrixId) {
      ranges.delete(matrixId)
      whole.delete(matrixId)
      await Promise.all(workers.map(wk => wk.release(matrixId)))
    },
    async memory () {
      return await Promise.all(workers.map(async wk => await wk.memory()))
    },
    close () {
      for (const wk of workers) wk.close()
    }
  }
}
