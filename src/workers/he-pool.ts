/**
 * Several miner workers acting as one miner: each matrix's output blocks are split into
 * contiguous ranges, one per worker, so one job uses every core. The inputs go to every
 * worker (each needs all input chunks); the results come back in block order.
 */
import { splitBlocks } from '../core/he/index.ts'
import { createHeMinerClient, type HeMinerClient, type HeMinerClientOptions } from './he-client.ts'
import type { JobTiming, MinerDevice, WorkerMemory } from './he-protocol.ts'

/** How a pool computed one job: summed over the workers that took part. */
export interface PoolJobTiming {
  /** 'gpu' when any worker's part of the job ran its multiply-accumulate on the GPU. */
  readonly device: 'gpu' | 'cpu'
  /** Time awaiting GPUs and time on CPUs, summed over the workers (ms). */
  readonly gpuMs: number
  readonly cpuMs: number
  /** Why a part meant for the GPU ran on the CPU (the first worker's reason). */
  readonly fallback?: string
}

/** What a pool computes on. */
export interface PoolDevice {
  readonly kind: 'gpu' | 'cpu'
  /** The GPU's adapter (and backend), or why the CPU: "WebGPU not available: …", "GPU self-test failed: …". */
  readonly reason: string
  /** Workers computing on the GPU, of all. */
  readonly gpuWorkers: number
  readonly workers: number
}

/** One device for a pool's workers: the GPU if any has one, else the first worker's reason. */
export function poolDevice (devices: readonly MinerDevice[]): PoolDevice {
  const gpus = devices.filter(d => d.kind === 'gpu')
  const gpu = gpus[0]
  const cpu = devices.find(d => d.kind === 'cpu')
  const reason = gpu !== undefined ? `${gpu.backend}: ${gpu.adapter}` : cpu !== undefined && cpu.kind === 'cpu' ? cpu.reason : 'no workers'
  return { kind: gpus.length > 0 ? 'gpu' : 'cpu', reason, gpuWorkers: gpus.length, workers: devices.length }
}

/** The timing of a job from its parts. */
function combine (parts: readonly JobTiming[]): PoolJobTiming {
  const fallback = parts.find(t => t.fallback !== undefined)?.fallback
  return {
    device: parts.some(t => t.device === 'gpu') ? 'gpu' : 'cpu',
    gpuMs: parts.reduce((a, t) => a + t.gpuMs, 0),
    cpuMs: parts.reduce((a, t) => a + t.cpuMs, 0),
    ...(fallback === undefined ? {} : { fallback })
  }
}

/** Options of {@link createMinerPool}. */
export interface MinerPoolOptions extends HeMinerClientOptions {
  /** Workers (default 2: the machines this runs on have 2 cores). */
  readonly size?: number
  /** Called after each job with how it was computed (a donor's panel shows it). */
  readonly onJob?: (timing: PoolJobTiming) => void
}

/**
 * A pool of miner workers: one worker's interface ({@link HeMinerClient}; `prepare` splits
 * the blocks across the workers), and its size. It is what a miner service computes with
 * (net's `MinerCompute` seam).
 */
export interface MinerPool extends Omit<HeMinerClient, 'memory' | 'device' | 'computeTimed'> {
  readonly size: number
  /** What the workers compute on (starting them, and with `gpu` their self-tests). */
  device: () => Promise<PoolDevice>
  /** Each worker's memory, in order. */
  memory: () => Promise<WorkerMemory[]>
  /** Jobs it computes at once (packed jobs run one per worker; coefficient jobs use every worker). */
  readonly parallel: number
}

/** Start `size` miner workers (default 2: the machines this runs on have 2 cores). */
export function createMinerPool (opts: MinerPoolOptions): MinerPool {
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
    async compute (matrixId, inputs, copts) {
      if (whole.has(matrixId)) {
        const i = busy.indexOf(Math.min(...busy))
        busy[i]++
        try {
          const { results, timing } = await workers[i].computeTimed(matrixId, inputs, copts)
          opts.onJob?.(combine([timing]))
          return results
        } finally {
          busy[i]--
        }
      }
      const r = ranges.get(matrixId) ?? splitBlocks(0, size)
      const active = workers.map((wk, i) => ({ wk, range: r[i] })).filter(a => a.range[0] < a.range[1])
      const parts = await Promise.all(active.map((a, k) => a.wk.computeTimed(matrixId, k === active.length - 1 ? inputs : inputs.map(b => b.slice()), copts)))
      opts.onJob?.(combine(parts.map(p => p.timing)))
      return parts.flatMap(p => p.results)
    },
    async device () {
      return poolDevice(await Promise.all(workers.map(wk => wk.device())))
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
