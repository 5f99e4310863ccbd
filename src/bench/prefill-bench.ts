/**
 * Time to first token (issue 11, batched prefill): a prompt through he-local in one batched
 * pass — with the plan's prefill plans (B vectors per job), and with every vector its own
 * job (the same pass before batched jobs) — against one token at a time, same run. Each
 * run warms its backend first (prefill encodings are built on first use).
 */
import { heBackend, localHe, privateEngine, type AsyncLogitsEngine } from '../core/engine/index.ts'
import type { Seal } from '../core/he/index.ts'
import type { SqueezedModel } from '../core/squeeze/index.ts'

/** Time to first token of a prompt: one batched pass against one token at a time (he-local, squeezed plan). */
export interface EngineBenchPrefill {
  readonly promptTokens: number
  readonly batchedMs: number
  readonly oneByOneMs: number
  /** batchedMs / oneByOneMs (goal once the HE layer packs batches: ≤ 1/4). */
  readonly ratio: number
  readonly roundsBatched: number
  readonly roundsOneByOne: number
  /** The last position's logits were bit-identical. */
  readonly logitsMatch: boolean
  /** The prefill plans' shape (null: the plan has none, e.g. coefficient plans). */
  readonly prefillPlan: { readonly batch: number, readonly vectors: number } | null
  /** The batched pass without prefill plans (every prompt vector its own job), same run: the baseline of batched jobs. */
  readonly vectorJobsMs: number
  /** batchedMs / vectorJobsMs. */
  readonly ratioVsVectorJobs: number
  /** Per run (batched, vector jobs, one by one): bytes each way, user and miner ms, jobs sent. */
  readonly runs: { readonly [k in 'batched' | 'vectorJobs' | 'oneByOne']: { readonly bytesUp: number, readonly bytesDown: number, readonly userMs: number, readonly minerMs: number, readonly jobs: number } }
}

/** The budget of the prefill measurement per mode: a 32-token prompt, fewer when a token takes long. */
export const PREFILL_BUDGET_MS = 20_000
export const PREFILL_MAX_TOKENS = 32

/** Measure a prompt of `tokens` tokens. */
export async function prefillRun (seal: Seal, sq: SqueezedModel, tokens: number): Promise<EngineBenchPrefill> {
  const vocab = sq.params.config.vocabSize
  const prompt = Array.from({ length: tokens }, (_, i) => (i === 0 ? 1 : 3 + ((i * 7919) % (vocab - 3))))
  // The same plan without prefill plans: a batched pass of one-vector jobs (before issue 11's batching).
  const vectorJobs: SqueezedModel = { ...sq, groups: new Map([...sq.groups].map(([k, g]) => [k, { ...g, prefillPlans: undefined }])) }
  const pre = [...sq.groups.values()].flatMap(g => g.prefillPlans ?? []).find(p => p !== undefined)
  const run = async (model: SqueezedModel, batched: boolean): Promise<{ ms: number, logits: number[], rounds: number, stats: EngineBenchPrefill['runs']['batched'] }> => {
    const { session, miner } = localHe(seal)
    let jobs = 0
    const counted = { ...miner, compute: async (...a: Parameters<typeof miner.compute>) => { jobs++; return await miner.compute(...a) } }
    const backend = await heBackend(model, session, counted)
    // Warm up first (a fresh engine, the same backend): prefill encodings are built on first use.
    const warm = privateEngine(model.params, backend)
    if (batched) await (warm.prefill as NonNullable<AsyncLogitsEngine['prefill']>)(prompt.slice(0, Math.min(prompt.length, pre?.batch ?? 1)), 0)
    else await warm.forward(prompt[0], 0)
    const before = { ...backend.stats }
    jobs = 0
    const engine = privateEngine(model.params, backend)
    const t0 = performance.now()
    let logits: Float32Array = new Float32Array(0)
    if (batched) logits = await (engine.prefill as NonNullable<AsyncLogitsEngine['prefill']>)(prompt, 0)
    else for (let pos = 0; pos < prompt.length; pos++) logits = await engine.forward(prompt[pos], pos)
    const ms = performance.now() - t0
    const st = backend.stats
    await backend.close?.()
    return { ms, logits: Array.from(logits), rounds: st.rounds - before.rounds, stats: { bytesUp: st.bytesUp - before.bytesUp, bytesDown: st.bytesDown - before.bytesDown, userMs: st.userMs - before.userMs, minerMs: st.minerMs - before.minerMs, jobs } }
  }
  const b = await run(sq, true)
  const v = await run(vectorJobs, true)
  const o = await run(sq, false)
  return {
    promptTokens: tokens,
    batchedMs: b.ms,
    oneByOneMs: o.ms,
    ratio: b.ms / o.ms,
    roundsBatched: b.rounds,
    roundsOneByOne: o.rounds,
    logitsMatch: JSON.stringify(b.logits) === JSON.stringify(o.logits) && JSON.stringify(v.logits) === JSON.stringify(o.logits),
    prefillPlan: pre === undefined ? null : { batch: pre.batch, vectors: pre.packed?.layout.vectors ?? 1 },
    vectorJobsMs: v.ms,
    ratioVsVectorJobs: b.ms / v.ms,
    runs: { batched: b.stats, vectorJobs: v.stats, oneByOne: o.stats }
  }
}

