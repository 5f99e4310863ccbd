/**
 * The user's scheduler over several miners: one {@link MinerLink} that sends each job to
 * the least-loaded, fastest miner, re-runs it elsewhere when a miner fails or is too slow,
 * and drops a miner for good when its result fails verification (the engine tells it
 * through `reject`; the miner is told nothing). With validators' standings (`standing`),
 * a miner that failed validation gets no job at all, and unscored miners together get at
 * most `unscoredShare(trusted)` of the jobs while a trusted miner is usable — with none
 * trusted (no validators on the mesh), every miner is picked as before.
 */
import type { MinerLink } from '../core/engine/index.ts'
import { paramsKey, splitBlocks, type MatvecPlan } from '../core/he/index.ts'
import { MinerJobError } from './mesh-link.ts'

/** Options of {@link minerScheduler}. */
export interface SchedulerOptions {
  /** Tries per job across miners when miners fail (default 3). */
  readonly maxAttempts?: number
  /** Consecutive failures after which a miner is dropped (default 2; an unreachable miner at once). */
  readonly maxFailures?: number
  /**
   * Split a matrix's output blocks across miners when it has at least this many blocks
   * (default 16: 768-dim layers have 24–49; stories260K's have 2–4, for which sending the
   * inputs to two miners would cost more than it saves). Infinity turns splitting off.
   */
  readonly splitMinBlocks?: number
  /**
   * Decides the split instead of `splitMinBlocks`: into how many parts to split one job of
   * `plan` given `miners` available (e.g. the planner's `splitWays`, which weighs miner time
   * saved against inputs sent again).
   */
  readonly split?: (plan: MatvecPlan, miners: number) => number
  /** Most miners one job is split across (default 2). */
  readonly maxSplit?: number
  /** Told when a miner is dropped, and why. */
  readonly onDrop?: (miner: string, reason: 'failed' | 'rejected') => void
  /** A miner's standing from validators' scores, asked at every pick (default: all 'unscored'). */
  readonly standing?: (miner: string) => 'trusted' | 'unscored' | 'failed'
  /**
   * The most share of jobs the unscored miners together get while `trusted` trusted miners
   * are usable (default 1: no cap). See net/scores' `unscoredShare`.
   */
  readonly unscoredShare?: (trusted: number) => number
}

interface Entry {
  readonly link: MinerLink
  inFlight: number
  /** Jobs sent so far (for rotation among comparable miners). */
  jobs: number
  /** Exponentially weighted job latency (ms); 0 until measured. */
  latency: number
  failures: number
}

/** A MinerLink over several miners, with the miners it still uses and those it dropped. */
export interface MinerScheduler extends MinerLink {
  readonly active: readonly string[]
  readonly dropped: readonly string[]
  /** Jobs answered so far, per miner (for receipts: who computed what). */
  readonly answered: ReadonlyMap<string, number>
  /**
   * Use one more miner (one that was just discovered): it is handed every matrix prepared so
   * far. A miner dropped for a rejected result is never taken back; one with the same name
   * already in use is ignored. Resolves when the link is ready.
   */
  add: (link: MinerLink) => Promise<void>
  /** Stop using a miner that left (its in-flight jobs finish or fail over). */
  remove: (name: string) => void
}

/** Schedule jobs over `links`. */
export function minerScheduler (links: readonly MinerLink[], opts: SchedulerOptions = {}): MinerScheduler {
  const entries: Entry[] = links.map(link => ({ link, inFlight: 0, jobs: 0, latency: 0, failures: 0 }))
  const dropped: string[] = []
  const rejected = new Set<string>()
  const answered = new Map<string, number>()
  const prepared = new Map<string, { plan: MatvecPlan, w: Int8Array }>()
  const keySets = new Map<string, { plan: MatvecPlan, keys: Uint8Array }>()
  const drop = (e: Entry, reason: 'failed' | 'rejected'): void => {
    const i = entries.indexOf(e)
    if (i < 0) return
    entries.splice(i, 1)
    dropped.push(e.link.name)
    if (reason === 'rejected') rejected.add(e.link.name)
    opts.onDrop?.(e.link.name, reason)
  }
  // Among the miners whose expected wait — (jobs in flight + 1) × latency — is within 4× of
  // the best, rotate (fewest jobs so far): load is spread over comparable miners, so no
  // single miner sees every job. Every 8th job goes to the least-used miner whatever its
  // speed, so a slow miner is still checked, and a dead one noticed. Miners that failed
  // validation are never picked; unscored ones only within their share of the picks made
  // while trusted and unscored miners were both at hand.
  let picks = 0
  let mixedPicks = 0
  let unscoredPicks = 0
  const standing = (e: Entry): 'trusted' | 'unscored' | 'failed' => opts.standing?.(e.link.name) ?? 'unscored'
  const pick = (exclude: Set<Entry>): Entry | undefined => {
    let candidates = entries.filter(e => !exclude.has(e) && standing(e) !== 'failed')
    if (candidates.length === 0) return undefined
    const trusted = candidates.filter(e => standing(e) === 'trusted')
    const mixed = trusted.length > 0 && trusted.length < candidates.length
    if (mixed && unscoredPicks + 1 > (opts.unscoredShare?.(trusted.length) ?? 1) * (mixedPicks + 1)) candidates = trusted
    const fewest = (list: Entry[]): Entry => list.reduce((a, b) => (b.jobs < a.jobs ? b : a))
    let chosen: Entry
    if (++picks % 8 === 0) chosen = fewest(candidates)
    else {
      // A miner not measured yet is taken to be as fast as the measured ones on average: with 0
      // it looked infinitely fast and took every job in flight — a newly found miner (still
      // encoding its matrices on first use) got a whole prefill batch, and the answer stalled.
      const measured = candidates.filter(e => e.latency > 0)
      const prior = measured.length === 0 ? 0 : measured.reduce((a, e) => a + e.latency, 0) / measured.length
      const wait = (e: Entry): number => (e.inFlight + 1) * (e.latency === 0 ? prior : e.latency)
      const best = Math.min(...candidates.map(wait))
      chosen = fewest(candidates.filter(e => wait(e) <= 4 * best + 1))
    }
    if (mixed) {
      mixedPicks++
      if (standing(chosen) !== 'trusted') unscoredPicks++
    }
    return chosen
  }
  /** One job (or one part of a split job) with fail-over; `avoid` steers the first pick away from miners busy with sibling parts. */
  const runOne = async (matrixId: string, inputs: Uint8Array[], jobId: string, blocks: readonly [number, number] | undefined, avoid: Set<Entry>): Promise<{ results: Uint8Array[], minerMs?: number, miner: string, bytesSent: number }> => {
    const tried = new Set<Entry>()
    const attempts = opts.maxAttempts ?? 3
    const size = inputs.reduce((a, c) => a + c.byteLength, 0)
    let sent = 0 // every attempt's bytes, failed ones included
    let last: unknown
    for (let a = 0; a < attempts; a++) {
      const e = pick(new Set([...tried, ...avoid])) ?? pick(tried) ?? pick(new Set())
      if (e === undefined) break
      tried.add(e)
      avoid.add(e)
      e.inFlight++
      e.jobs++
      const t0 = performance.now()
      try {
        // each attempt gets its own copy: a link may transfer (detach) its buffers
        const r = await e.link.compute(matrixId, inputs.map(c => c.slice()), jobId, blocks)
        if (blocks !== undefined && r.results.length !== blocks[1] - blocks[0]) throw new MinerJobError('BAD_REPLY', `miner ${e.link.name} answered blocks [${blocks[0]}, ${blocks[1]}) of job ${jobId} with ${r.results.length} results`, jobId, e.link.name)
        const ms = performance.now() - t0
        e.latency = e.latency === 0 ? ms : 0.8 * e.latency + 0.2 * ms
        e.failures = 0
        answered.set(e.link.name, (answered.get(e.link.name) ?? 0) + 1)
        return { results: r.results, minerMs: r.minerMs, miner: e.link.name, bytesSent: sent + (r.bytesSent ?? size) }
      } catch (err) {
        last = err
        sent += err instanceof MinerJobError ? err.bytesSent : 0
        // A miner that cannot be reached at all is gone (a closed lid, a crash), and one that
        // breaks the protocol is not to be trusted: drop it now. Other failures (timeouts, a
        // busy queue) get it picked less, then dropped.
        const now = err instanceof MinerJobError && (err.code === 'MINER_UNREACHABLE' || err.code === 'BAD_REPLY')
        e.latency = Math.max(e.latency, 1) * 4
        if (now || ++e.failures >= (opts.maxFailures ?? 2)) drop(e, 'failed')
      } finally {
        e.inFlight--
      }
    }
    const err = last instanceof MinerJobError ? last : new MinerJobError('NO_MINERS', `no miner could run job ${jobId}${last === undefined ? ' (none left)' : `: ${(last as Error).message}`}`, jobId, 'scheduler', last)
    err.bytesSent = sent
    throw err
  }
  return {
    name: 'scheduler',
    get active () { return entries.map(e => e.link.name) },
    get dropped () { return [...dropped] },
    answered,
    async prepare (matrixId: string, plan: MatvecPlan, w: Int8Array) {
      prepared.set(matrixId, { plan, w })
      await Promise.all(entries.map(async e => { await e.link.prepare(matrixId, plan, w) }))
    },
    async setKeys (plan, keys) {
      keySets.set(paramsKey(plan.params), { plan, keys })
      await Promise.all(entries.map(async e => { await e.link.setKeys?.(plan, keys) }))
    },
    async add (link) {
      if (rejected.has(link.name) || entries.some(e => e.link.name === link.name)) return
      for (const k of keySets.values()) await link.setKeys?.(k.plan, k.keys)
      for (const [id, p] of prepared) await link.prepare(id, p.plan, p.w)
      if (entries.some(e => e.link.name === link.name)) return // added twice concurrently
      const i = dropped.indexOf(link.name)
      if (i >= 0) dropped.splice(i, 1) // came back after failing (e.g. its tab reloaded)
      entries.push({ link, inFlight: 0, jobs: 0, latency: 0, failures: 0 })
    },
    remove (name) {
      const i = entries.findIndex(e => e.link.name === name)
      if (i >= 0) entries.splice(i, 1)[0].link.close?.()
    },
    async compute (matrixId, inputs, jobId, blocks) {
      const plan = prepared.get(matrixId)?.plan
      const total = plan?.split.blocks ?? 0
      // Packed jobs are not split: their results are packing trees, not blocks a part could own.
      const ways = blocks !== undefined || plan === undefined || plan.scheme === 'packed'
        ? 1
        : opts.split !== undefined
          ? Math.max(1, Math.min(entries.length, total, Math.floor(opts.split(plan, entries.length))))
          : total >= (opts.splitMinBlocks ?? 16) ? Math.min(entries.length, opts.maxSplit ?? 2) : 1
      if (ways <= 1) return await runOne(matrixId, inputs, jobId, blocks, new Set())
      // A big matrix: its output blocks split across `ways` miners, run at once; each part
      // fails over on its own. Every part needs all the inputs (more bytes up, less time).
      const ranges = splitBlocks(total, ways)
      const chosen = new Set<Entry>()
      const runs = ranges.map(async (range, k) => {
        const r = await runOne(matrixId, inputs, `${jobId}/${k}`, range, chosen)
        return { ...r, range }
      })
      const parts = await Promise.all(runs)
      return {
        results: parts.flatMap(p => p.results),
        minerMs: Math.max(...parts.map(p => p.minerMs ?? 0)),
        miner: [...new Set(parts.map(p => p.miner))].join(','),
        parts: parts.map(p => ({ miner: p.miner, blocks: p.range })),
        bytesSent: parts.reduce((a, p) => a + p.bytesSent, 0)
      }
    },
    reject (miner: string) {
      const e = entries.find(x => x.link.name === miner)
      if (e !== undefined) drop(e, 'rejected')
    },
    close () {
      for (const e of entries) e.link.close?.()
    }
  }
}
