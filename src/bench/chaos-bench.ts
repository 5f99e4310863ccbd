/**
 * `cerberus bench chaos`: the mesh's promises together, under churn (issue 16). Four
 * headless miners on loopback (real `cerberus miner --relay` processes) are SIGKILLed and
 * started at random every 2–5 s, and the relay is SIGKILLed and restarted twice (same port,
 * same key file), while a user — the CLI's user path: `relayMiners` (joinMesh +
 * createMinerLinks) under `createPrivateGeneration`, as `generate --relay` runs — makes
 * 20 greedy generations. Shown: every text is the w8a8 text; the longest gap between two
 * tokens; every job accounted for (answered and verified, or re-run after a failed
 * attempt, none lost); the user's memory after GC per generation. Calm generations first
 * (a warm-up, then each prompt once) are the baseline the chaos is compared to: tok/s, and
 * the time to each prompt's first token (its prefill, apart from the gaps between tokens).
 *
 * The chaos never takes the last live miner the user knows of: with none, no scheduler can
 * do anything but wait, which says nothing about recovery.
 */
import { CerberusError } from '../core/errors.ts'
import { localHe, type MinerLink } from '../core/engine/index.ts'
import { loadSeal, NETWORKS } from '../core/he/index.ts'
import { encode } from '../core/model/index.ts'
import { prng } from '../core/prng.ts'
import { createPrivateGeneration } from '../app/index.ts'
import { relayMiners } from '../cli/private-miners.ts'
import { loadModelFiles } from '../node/model-files.ts'
import { startChaosFleet, type ChaosFleet } from './chaos-fleet.ts'
import { concatBytes, memoryAfterGc, slope, w8a8Bytes } from './measure.ts'

/** Defaults of {@link runChaosBench} (issue 16's numbers). */
export const CHAOS_DEFAULTS = Object.freeze({
  generations: 20,
  miners: 4,
  relayRestarts: 2,
  /** New tokens per generation: a few seconds each here, so every generation sees chaos. */
  tokens: 24,
  /** Between two chaos events (a kill or a start), uniform in this range. */
  minIntervalMs: 2000,
  maxIntervalMs: 5000,
  seed: 16
})

/** The longest gap between two tokens that is not a stall (issue 16). */
export const STALL_LIMIT_MS = 5000

/**
 * How much the user's heap after GC may grow from the first chaos generation to any later
 * one: a leak of one result per job (~20 KiB × 480 jobs per generation) would pass it in
 * three generations, while libp2p's own caches (peer store, dial queues) stay well inside.
 */
export const USER_HEAP_GROWTH_LIMIT_BYTES = 32 * 1024 * 1024

/** How long to wait for the miners to be started and known to the user. */
const MINERS_READY_MS = 90_000

/** Prompts the generations cycle through. */
const PROMPTS = ['', 'Once upon a time', 'The little dog', 'Lily and Ben went to the park']

/** Options of {@link runChaosBench}. */
export interface ChaosOptions {
  readonly generations?: number
  readonly miners?: number
  readonly relayRestarts?: number
  readonly tokens?: number
  readonly minIntervalMs?: number
  readonly maxIntervalMs?: number
  readonly seed?: number
  /** Prompts the generations cycle through (default: four, from empty to eight tokens). */
  readonly prompts?: readonly string[]
  /** Progress lines. */
  readonly onLog?: (line: string) => void
}

/** The benchmark's JSON (issue 16's field names first). */
export interface ChaosReport {
  readonly generations: number
  /** Generations whose text equals the w8a8 text. */
  readonly exact: number
  /** The longest gap between two consecutive tokens of a generation. */
  readonly longestStallMs: number
  /** The longest time to a generation's first token (the whole prompt's prefill), and its worst ratio to the calm run of the same prompt. */
  readonly longestFirstTokenMs: number
  readonly firstTokenVsCalm: number
  /** Jobs the user's engine issued (each a matrix × vector, verified before use). */
  readonly jobs: number
  /** Attempts that failed (a killed miner, a dead stream, a timeout) and were re-run on another miner. */
  readonly reRun: number
  /** Key rotations after rejected results (fresh keys before anything more is encrypted). */
  readonly keyRotations: number
  /** Always true since key rotation landed (kept for scripts that read it). */
  readonly keyRotationsCounted: boolean
  /** Jobs that failed for good (every attempt), and generations that failed. */
  readonly lost: number
  readonly failedGenerations: number
  readonly failures: string[]
  /** Every job answered once and verified or rejected, every failed attempt re-run, none lost. */
  readonly jobsAccounted: boolean
  /** Results verified (one per real vector), and jobs whose every result was (a batched prefill job is one job). */
  readonly verified: number
  readonly verifiedJobs: number
  readonly rejected: number
  readonly minersStarted: number
  readonly minersKilled: number
  readonly relayRestarts: number
  /** Miners the user's scheduler dropped (unreachable after a kill). */
  readonly minersDropped: number
  /** The calm generations before the chaos (baseline: one per prompt) and the chaos generations' rate. */
  readonly baselineTokPerS: number
  readonly chaosTokPerS: number
  /** The user's JS heap and memory outside it (SEAL's WebAssembly heap, buffers) after GC, per chaos generation. */
  readonly heapAfterGcBytes: number[]
  readonly externalAfterGcBytes: number[]
  readonly heapSlopeBytesPerGeneration: number
  readonly heapGrowthBytes: number
  readonly memoryBounded: boolean
  readonly seconds: number
}

/** Sum of a map's values. */
const total = (m: ReadonlyMap<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0)

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Run the chaos benchmark. */
export async function runChaosBench (opts: ChaosOptions = {}): Promise<ChaosReport> {
  const o = { ...CHAOS_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof CHAOS_DEFAULTS & ChaosOptions
  const log = (line: string): void => { o.onLog?.(`${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${line}`) }
  const rand = prng(o.seed)
  const prompts = o.prompts ?? PROMPTS
  const t0 = performance.now()
  const model = await loadModelFiles()
  const fleet: ChaosFleet = await startChaosFleet()
  const local = localHe(await loadSeal()) // the CLI user's HE runs in its process
  let mesh: Awaited<ReturnType<typeof relayMiners>> | undefined
  let chaosOn = false
  const background: Array<Promise<unknown>> = []
  try {
    await Promise.all(Array.from({ length: o.miners }, async () => await fleet.startMiner()))
    mesh = await relayMiners({ relay: fleet.relay, modelSha256: model.sha256, session: crypto.randomUUID(), onDrop: (m, why) => { log(`dropped ${m.slice(-8)} (${why})`) } })
    const links = mesh.links
    const deadline = Date.now() + MINERS_READY_MS
    while (links.ready < o.miners && Date.now() < deadline) await sleep(100)
    if (links.ready < o.miners) throw new CerberusError('CHAOS_SETUP', `only ${links.ready} of ${o.miners} miners were found through the relay in ${MINERS_READY_MS / 1000} s`)

    // Jobs as the engine issues them, and how each ended.
    const jobs = { issued: 0, answered: 0, parts: 0, lost: 0 }
    const inner = links.scheduler
    const counting: MinerLink = {
      name: inner.name,
      prepare: inner.prepare.bind(inner),
      setKeys: inner.setKeys?.bind(inner),
      reject: inner.reject?.bind(inner),
      async compute (id, inputs, jobId, blocks) {
        jobs.issued++
        try {
          const r = await inner.compute(id, inputs, jobId, blocks)
          jobs.answered++
          jobs.parts += r.parts?.length ?? 1
          return r
        } catch (err) {
          jobs.lost++
          throw err
        }
      }
    }
    const gen = await createPrivateGeneration(model, { session: local.session, miners: counting }, { network: NETWORKS.lan, maxAttempts: 3 })
    const expected = new Map<string, Uint8Array>()
    let longestStallMs = 0
    let longestFirstTokenMs = 0
    const failures: string[] = []
    /**
     * One greedy generation: whether its bytes are the w8a8 bytes, its new tokens and ms,
     * and the time to its first token (the prefill of the whole prompt: work that grows with
     * the prompt, kept apart from the gaps between tokens).
     */
    const generation = async (g: number): Promise<{ exact: boolean, tokens: number, ms: number, firstMs: number }> => {
      const prompt = prompts[g % prompts.length]
      const steps = encode(model.tokenizer, prompt).length - 1 + o.tokens
      const want = expected.get(prompt) ?? w8a8Bytes(model, prompt, steps)
      expected.set(prompt, want)
      const parts: Uint8Array[] = []
      const start = performance.now()
      let last = start
      let firstMs = 0
      const tick = (): void => {
        const now = performance.now()
        if (parts.length === 0) firstMs = now - start
        else {
          if (now - last > STALL_LIMIT_MS / 2) log(`a gap of ${(now - last).toFixed(0)} ms before token ${parts.length} of generation ${g}`)
          longestStallMs = Math.max(longestStallMs, now - last)
        }
        last = now
      }
      try {
        await gen.generate(prompt, { temperature: 0, topp: 0.9, seed: 1, steps }, { onToken: t => { tick(); parts.push(t.bytes) } })
      } catch (err) {
        tick()
        failures.push(`generation ${g}: ${(err as Error).message}`)
      }
      const got = concatBytes(parts)
      return { exact: got.length === want.length && got.every((b, i) => b === want[i]), tokens: parts.length, ms: performance.now() - start, firstMs }
    }

    // Calm: a warm-up (the miners encode their matrices on first use), then each prompt once.
    await generation(0)
    const calmFirstMs = new Map<string, number>()
    let calmTokens = 0
    let calmMs = 0
    for (let i = 0; i < Math.min(prompts.length, o.generations); i++) {
      const r = await generation(i)
      if (!r.exact) failures.push(`calm generation ${i} was not exact`)
      calmFirstMs.set(prompts[i], r.firstMs)
      calmTokens += r.tokens
      calmMs += r.ms
      log(`calm generation ${i}: ${r.exact ? 'exact' : 'NOT exact'}, first token ${r.firstMs.toFixed(0)} ms, ${(r.tokens / (r.ms / 1000)).toFixed(2)} tok/s`)
    }
    longestStallMs = 0
    let firstTokenRatio = 0
    const before = { ...gen.stats }
    const failedBefore = total(links.failed)
    const answeredBefore = total(inner.answered)
    const jobsBefore = { ...jobs }

    // The chaos: a kill or a start every 2–5 s, never taking the last live miner the user knows.
    chaosOn = true
    const chaos = (async () => {
      while (chaosOn) {
        await sleep(o.minIntervalMs + rand() * (o.maxIntervalMs - o.minIntervalMs))
        if (!chaosOn) break
        const known = new Set(inner.active)
        const alive = fleet.miners
        const knownAlive = alive.filter(m => known.has(m.peerId)).length
        const room = o.miners - alive.length - fleet.starting
        if (knownAlive >= 2 && (room <= 0 || rand() < 0.5)) {
          const victim = alive[Math.floor(rand() * alive.length)]
          log(`kill ${victim.peerId.slice(-8)}`)
          await fleet.killMiner(victim)
        } else if (room > 0) {
          log('start a miner')
          background.push(fleet.startMiner().catch((err: unknown) => { log(`a miner failed to start: ${(err as Error).message}`) }))
        }
      }
    })()
    background.push(chaos)

    const restartAt = new Set(Array.from({ length: o.relayRestarts }, (_, r) => Math.floor((o.generations * (r + 1)) / (o.relayRestarts + 1))))
    const heaps: number[] = []
    const externals: number[] = []
    let exact = 0
    let tokens = 0
    let ms = 0
    for (let g = 1; g <= o.generations; g++) {
      if (restartAt.has(g - 1)) {
        background.push(sleep(1000).then(async () => {
          log('restart the relay')
          await fleet.restartRelay()
          log('relay back')
        }).catch((err: unknown) => { failures.push(`relay restart: ${(err as Error).message}`) }))
      }
      const r = await generation(g)
      if (r.exact) exact++
      longestFirstTokenMs = Math.max(longestFirstTokenMs, r.firstMs)
      firstTokenRatio = Math.max(firstTokenRatio, r.firstMs / (calmFirstMs.get(prompts[g % prompts.length]) ?? r.firstMs))
      tokens += r.tokens
      ms += r.ms
      const mem = memoryAfterGc()
      heaps.push(mem.heapUsed)
      externals.push(mem.external)
      log(`generation ${g}/${o.generations}: ${r.exact ? 'exact' : 'NOT exact'}, ${(r.tokens / (r.ms / 1000)).toFixed(2)} tok/s, ${links.ready} miners, heap ${(mem.heapUsed / 2 ** 20).toFixed(1)} MiB, longest stall so far ${longestStallMs.toFixed(0)} ms`)
    }
    chaosOn = false
    await Promise.all(background)

    const st = gen.stats
    const reRun = total(links.failed) - failedBefore
    const answeredAttempts = total(inner.answered) - answeredBefore
    const issued = jobs.issued - jobsBefore.issued
    const answered = jobs.answered - jobsBefore.answered
    const lost = jobs.lost - jobsBefore.lost
    const verified = st.verified - before.verified
    const verifiedJobs = st.verifiedJobs - before.verifiedJobs
    const rejected = st.rejected - before.rejected
    await gen.close()
    const growth = Math.max(...heaps) - heaps[0]
    return {
      generations: o.generations,
      exact,
      longestStallMs: Math.round(longestStallMs),
      jobs: issued,
      reRun,
      keyRotations: st.keyRotations - before.keyRotations,
      keyRotationsCounted: true,
      lost,
      failedGenerations: failures.filter(f => f.startsWith('generation')).length,
      failures,
      jobsAccounted: lost === 0 && answered === issued && answered === verifiedJobs + rejected && jobs.parts - jobsBefore.parts === answeredAttempts,
      verified,
      verifiedJobs,
      rejected,
      minersStarted: fleet.counts.started,
      minersKilled: fleet.counts.killed,
      relayRestarts: fleet.counts.relayRestarts,
      minersDropped: links.dropped.size,
      longestFirstTokenMs: Math.round(longestFirstTokenMs),
      firstTokenVsCalm: firstTokenRatio,
      baselineTokPerS: calmTokens / (calmMs / 1000),
      chaosTokPerS: tokens / (ms / 1000),
      heapAfterGcBytes: heaps,
      externalAfterGcBytes: externals,
      heapSlopeBytesPerGeneration: Math.round(slope(heaps)),
      heapGrowthBytes: growth,
      memoryBounded: growth <= USER_HEAP_GROWTH_LIMIT_BYTES,
      seconds: (performance.now() - t0) / 1000
    }
  } finally {
    chaosOn = false
    await Promise.allSettled(background)
    await mesh?.close()
    local.session.close?.()
    local.miner.close?.()
    await fleet.stop()
  }
}

/** The report as lines for a terminal. */
export function formatChaos (r: ChaosReport): string {
  const mib = (b: number): string => (b / 2 ** 20).toFixed(1)
  return [
    `chaos: ${r.generations} generations, ${r.minersKilled} miners SIGKILLed, ${r.minersStarted} started, relay restarted ${r.relayRestarts}×`,
    `exact (= w8a8): ${r.exact}/${r.generations}${r.failedGenerations > 0 ? ` (${r.failedGenerations} failed: ${r.failures.join('; ')})` : ''}`,
    `longest stall between tokens: ${r.longestStallMs} ms (limit ${STALL_LIMIT_MS} ms); longest time to a first token ${r.longestFirstTokenMs} ms, at most ${r.firstTokenVsCalm.toFixed(2)}× the calm run's`,
    `jobs: ${r.jobs} (${r.verified} verified, ${r.rejected} rejected), ${r.reRun} attempts re-run after a failure, ${r.lost} lost; accounted: ${r.jobsAccounted ? 'yes' : 'NO'}`,
    `key rotations: ${r.keyRotations}`,
    `tok/s: ${r.chaosTokPerS.toFixed(2)} under chaos, ${r.baselineTokPerS.toFixed(2)} calm (baseline) = ${(r.chaosTokPerS / r.baselineTokPerS).toFixed(2)}×`,
    `user heap after GC: ${mib(r.heapAfterGcBytes[0] ?? 0)} → ${mib(r.heapAfterGcBytes.at(-1) ?? 0)} MiB, slope ${(r.heapSlopeBytesPerGeneration / 1024).toFixed(1)} KiB/generation, growth ${mib(r.heapGrowthBytes)} MiB (bounded: ${r.memoryBounded ? 'yes' : 'NO'})`,
    ''
  ].join('\n')
}
