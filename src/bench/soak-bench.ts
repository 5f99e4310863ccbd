/**
 * `cerberus bench soak`: one headless miner (its own process, as `cerberus miner` runs)
 * serving 1,000 private generations, and whether its memory stays flat (issue 16). Users
 * come and go as in a mesh: every few generations a new one — new HE keys (a new Galois
 * key set for the miner to load, and evict once more than MINER_KEYS.maxSessions are
 * held), a new session id, a new job stream — on one long-lived libp2p peer of the
 * benchmark. After each generation: the miner's main-thread heap after a full GC, each of
 * its HE workers' heap and SEAL heap (their `memory` request; SEAL's WebAssembly heap never
 * shrinks, so leaked SEAL objects show as growth), and this process's — the users' — heap
 * after GC and SEAL heap. Reported: the least-squares slope per generation and the growth,
 * over the steady state (the second half: the first users fill the miner's key-set slots).
 */
import { multiaddr } from '@multiformats/multiaddr'
import { localHe } from '../core/engine/index.ts'
import { loadSeal, NETWORKS } from '../core/he/index.ts'
import { createPrivateGeneration } from '../app/index.ts'
import { meshMinerLink } from '../net/mesh-link.ts'
import { createPeer } from '../net/peer.ts'
import { loadModelFiles } from '../node/model-files.ts'
import { wasmMemoryBytes, watchWasmMemories } from '../workers/wasm-memories.ts'
import { concatBytes, memoryAfterGc, slope, w8a8Bytes } from './measure.ts'
import { spawnMinerProcess, type MinerMemory } from './miner-process.ts'

/** Defaults of {@link runSoakBench}. */
export const SOAK_DEFAULTS = Object.freeze({
  generations: 1000,
  /** New tokens per generation (greedy from BOS): the jobs, streams and sessions are what is soaked, not long texts. */
  tokens: 4,
  /** Generations per user before a new one comes (new keys, session and stream). */
  generationsPerUser: 4,
  /** The miner's HE workers. */
  workers: 1
})

/**
 * What "flat" allows over the steady state (the second half). SEAL's heap grows in 64 KiB
 * pages and, steady, should not grow at all: one leaked ciphertext per job (≥ 16 KiB × 60
 * jobs per 2-token generation) would pass 1 MiB within two generations. The heaps after GC
 * wander by a few hundred KiB (libp2p's caches); a job's ciphertexts held until its 60 s
 * timeout — the leak the soak found — grew the users' heap 3.5 MiB over 18 generations.
 */
export const SOAK_STEADY_GROWTH_LIMITS = Object.freeze({
  heapBytes: 1024 * 1024,
  wasmBytes: 1024 * 1024
})

/** Options of {@link runSoakBench}. */
export interface SoakOptions {
  readonly generations?: number
  readonly tokens?: number
  readonly generationsPerUser?: number
  readonly workers?: number
  readonly onLog?: (line: string) => void
}

/** A memory series: its samples, slope and growth over the steady state (bytes). */
export interface MemorySeries {
  readonly samples: number[]
  /** Least squares over the steady state (the second half), bytes per generation. */
  readonly slopePerGeneration: number
  /** Last minus first sample of the steady state. */
  readonly steadyGrowth: number
  /** Last minus first sample of the whole run. */
  readonly totalGrowth: number
}

/** The benchmark's JSON. */
export interface SoakReport {
  readonly generations: number
  readonly exact: number
  readonly users: number
  readonly tokens: number
  readonly minerHeap: MemorySeries
  /** Sums over the miner's HE workers: their heaps, SEAL's heaps, all their memory outside the heap (SEAL, the matrices' kernel memory, buffers; V8 counts it lazily, so it wanders). */
  readonly minerWorkerHeap: MemorySeries
  readonly minerWasm: MemorySeries
  readonly minerWorkerExternal: MemorySeries
  readonly minerRss: MemorySeries
  readonly userHeap: MemorySeries
  /** The users' SEAL (one module in this process, every user's keys made and deleted in it). */
  readonly userWasm: MemorySeries
  /** The miner service's counters at the end (jobs, streams, key sets received and evicted). */
  readonly minerStats: MinerMemory['stats']
  readonly generationsPerSecond: number
  readonly seconds: number
}

function series (samples: number[]): MemorySeries {
  const steady = samples.slice(Math.floor(samples.length / 2))
  return {
    samples,
    slopePerGeneration: Math.round(slope(steady)),
    steadyGrowth: (steady.at(-1) ?? 0) - (steady[0] ?? 0),
    totalGrowth: (samples.at(-1) ?? 0) - (samples[0] ?? 0)
  }
}

/** Run the soak benchmark. */
export async function runSoakBench (opts: SoakOptions = {}): Promise<SoakReport> {
  const o = { ...SOAK_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof SOAK_DEFAULTS & SoakOptions
  const t0 = performance.now()
  const log = (line: string): void => { o.onLog?.(`${((performance.now() - t0) / 1000).toFixed(1).padStart(7)} s  ${line}`) }
  const model = await loadModelFiles()
  const want = w8a8Bytes(model, '', o.tokens + 1)
  const miner = await spawnMinerProcess({ workers: o.workers })
  const peer = await createPeer()
  watchWasmMemories()
  const seal = await loadSeal() // one SEAL module for every user, as one tab's worker would hold
  const s = { minerHeap: [] as number[], minerWorkerHeap: [] as number[], minerWasm: [] as number[], minerWorkerExternal: [] as number[], minerRss: [] as number[], userHeap: [] as number[], userWasm: [] as number[] }
  let exact = 0
  let users = 0
  let last: MinerMemory | undefined
  let genStart = 0
  try {
    for (let g = 0; g < o.generations;) {
      // A new user: keys, session, stream. Her generation pipeline is squeezed once.
      users++
      const he = localHe(seal)
      const link = meshMinerLink(peer, multiaddr(miner.addr), { session: crypto.randomUUID() })
      const gen = await createPrivateGeneration(model, { session: he.session, miners: link }, { network: NETWORKS.lan, maxAttempts: 1 })
      try {
        for (let k = 0; k < o.generationsPerUser && g < o.generations; k++, g++) {
          if (g === 1) genStart = performance.now()
          const parts: Uint8Array[] = []
          await gen.generate('', { temperature: 0, topp: 0.9, seed: 1, steps: o.tokens + 1 }, { onToken: t => { parts.push(t.bytes) } })
          const got = concatBytes(parts)
          if (got.length === want.length && got.every((b, i) => b === want[i])) exact++
          const mine = memoryAfterGc()
          last = await miner.memory()
          s.minerHeap.push(last.heapUsed)
          s.minerWorkerHeap.push(last.workers.reduce((a, w) => a + w.heapUsed, 0))
          s.minerWasm.push(last.workers.reduce((a, w) => a + w.wasmBytes, 0))
          s.minerWorkerExternal.push(last.workers.reduce((a, w) => a + w.external, 0))
          s.minerRss.push(last.rss)
          s.userHeap.push(mine.heapUsed)
          s.userWasm.push(wasmMemoryBytes())
          if ((g + 1) % Math.max(1, Math.floor(o.generations / 20)) === 0) {
            log(`${g + 1}/${o.generations} generations (${exact} exact), ${users} users; miner heap ${mib(last.heapUsed)} MiB, workers' SEAL heap ${mib(s.minerWasm.at(-1) ?? 0)} MiB, rss ${mib(last.rss)} MiB; user heap ${mib(mine.heapUsed)} MiB`)
          }
        }
      } finally {
        await gen.close()
        link.close?.()
        he.session.close?.()
        he.miner.close?.()
      }
    }
  } finally {
    await peer.stop()
    await miner.stop()
  }
  return {
    generations: o.generations,
    exact,
    users,
    tokens: o.tokens,
    minerHeap: series(s.minerHeap),
    minerWorkerHeap: series(s.minerWorkerHeap),
    minerWasm: series(s.minerWasm),
    minerWorkerExternal: series(s.minerWorkerExternal),
    minerRss: series(s.minerRss),
    userHeap: series(s.userHeap),
    userWasm: series(s.userWasm),
    minerStats: (last as MinerMemory).stats,
    generationsPerSecond: (o.generations - 1) / ((performance.now() - genStart) / 1000),
    seconds: (performance.now() - t0) / 1000
  }
}

const mib = (b: number): string => (b / 2 ** 20).toFixed(1)

/** The report as lines for a terminal. */
export function formatSoak (r: SoakReport): string {
  const line = (name: string, m: MemorySeries): string => `${name.padEnd(34)} ${mib(m.samples[0] ?? 0).padStart(7)} → ${mib(m.samples.at(-1) ?? 0).padStart(7)} MiB   slope ${(m.slopePerGeneration / 1024).toFixed(2).padStart(8)} KiB/generation   steady growth ${mib(m.steadyGrowth).padStart(6)} MiB`
  return [
    `soak: ${r.generations} generations of ${r.tokens} tokens (${r.exact} = w8a8) by ${r.users} users on one miner; ${r.minerStats.jobs} jobs, ${r.minerStats.streams} streams, ${r.minerStats.keySets} key sets received, ${r.minerStats.keysEvicted} evicted; ${r.generationsPerSecond.toFixed(2)} generations/s`,
    'steady state = the second half; slopes by least squares',
    line('miner main heap (after GC)', r.minerHeap),
    line('miner HE workers\' heap', r.minerWorkerHeap),
    line('miner HE workers\' SEAL heap', r.minerWasm),
    line('miner HE workers outside the heap', r.minerWorkerExternal),
    line('miner rss', r.minerRss),
    line('user heap (after GC)', r.userHeap),
    line('user SEAL heap', r.userWasm),
    ''
  ].join('\n')
}
