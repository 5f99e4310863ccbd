/**
 * The private inference engine benchmark, platform-neutral: for a model, tokens/s of the
 * fastest plaintext engine (f32-fast), of w8a8 and of he-local (squeezed plan; user and
 * in-process miner in one thread), measured in the same run; per-token user/miner ms,
 * bytes, time to first token; whether he-local printed exactly w8a8's tokens; and the
 * naive plan's per-token time against the squeezed one. Also (issue 12) the round-fused
 * plan measured in the same run with its round trips per token, both layouts' predicted
 * cost on each network profile, and (issue 11) the time to first token of a prompt fed
 * in one batched pass against one token at a time.
 */
import { createPrivateGeneration } from '../app/index.ts'
import { generateAsync, localHe, privateEngine, squeezedW8a8Backend, type AsyncLogitsEngine, type BackendStats } from '../core/engine/index.ts'
import type { Seal } from '../core/he/index.ts'
import { NETWORKS, type NetworkProfile } from '../core/he/index.ts'
import { createEngine, createRng, createSampler, generate, type Checkpoint, type Tokenizer } from '../core/model/index.ts'
import { NAIVE, predictToken, squeezeModel, type PlanMemo, type SqueezedModel, type SqueezeOptions } from '../core/squeeze/index.ts'
import { prefillRun, PREFILL_BUDGET_MS, PREFILL_MAX_TOKENS, type EngineBenchPrefill } from './prefill-bench.ts'

/** The round-fused plan, he-local, same run. */
export interface EngineBenchFused {
  readonly heTokPerS: number
  readonly msPerToken: number
  /** he-local printed exactly the fused plan's plaintext twin's tokens. */
  readonly tokensMatch: boolean
  readonly roundTripsPerToken: number
  readonly userMsPerToken: number
  readonly minerMsPerToken: number
  readonly bytesPerToken: number
  /** Squeezing the fused products and preparing every matrix on the miner, once. */
  readonly prepareMs: number
  readonly predictedMsPerToken: number
  /** unfused ms per token / fused ms per token, he-local (in-process: no round trip to save). */
  readonly speedVsUnfused: number
}

/** Both layouts' predicted cost per token on one network profile. */
export interface EngineBenchRoundsPlan {
  readonly network: string
  /** What the planner picks there ('auto'). */
  readonly chosen: 'fused' | 'unfused'
  readonly unfused: { readonly totalMs: number, readonly roundTrips: number, readonly bytes: number }
  readonly fused: { readonly totalMs: number, readonly roundTrips: number, readonly bytes: number } | null
}


/** Today's coefficient-only plan (no Galois keys), he-local, same run: the packed scheme's baseline. */
export interface EngineBenchCoefficient {
  readonly heTokPerS: number
  readonly msPerToken: number
  readonly userMsPerToken: number
  readonly minerMsPerToken: number
  readonly bytesPerToken: number
  /** he-local printed exactly this plan's plaintext twin's tokens. */
  readonly tokensMatch: boolean
  readonly prepareMs: number
}

/** The squeezed plan (packed where it pays) against the coefficient-only plan, same run. */
export interface EngineBenchPackedVsCoefficient {
  /** squeezed bytes per token / coefficient bytes per token. */
  readonly bytes: number
  /** squeezed user ms per token / coefficient user ms per token. */
  readonly userMs: number
  /** squeezed miner ms per token / coefficient miner ms per token. */
  readonly minerMs: number
  /** Matrices the squeezed plan packs, out of the encrypted ones. */
  readonly packedMatrices: number
  readonly encryptedMatrices: number
}

/** One model's results. */
export interface EngineBenchModel {
  readonly model: string
  readonly tokens: number
  readonly f32TokPerS: number
  readonly w8a8TokPerS: number
  readonly heTokPerS: number
  /** f32TokPerS / heTokPerS: how many times slower private generation is. */
  readonly ratio: number
  readonly userMsPerToken: number
  readonly minerMsPerToken: number
  /** Freivalds' share of the user's time. */
  readonly verifyShare: number
  readonly bytesUpPerToken: number
  readonly bytesDownPerToken: number
  readonly bytesPerToken: number
  /** ms from the start of he-local generation to its first token. */
  readonly timeToFirstTokenMs: number
  /** he-local printed exactly the w8a8 engine's tokens. */
  readonly tokensMatch: boolean
  /** Miner set-up: encoding every encrypted matrix, once. */
  readonly prepareMs: number
  readonly predictedMsPerToken: number
  readonly naiveMsPerToken: number
  readonly squeezedMsPerToken: number
  /** naive / squeezed per-token time, he-local, same run. */
  readonly squeezeSpeedup: number
  readonly plan: { readonly encryptedGroups: number, readonly localGroups: number, readonly network: string }
  /** What each squeezing step buys, predicted per token (cumulative, naive first). */
  readonly squeezeSteps: ReadonlyArray<{ readonly step: string, readonly predictedMsPerToken: number, readonly bytesPerToken: number }>
  /** Dependent round trips per token of the squeezed plan, he-local (4 per layer unfused). */
  readonly roundTripsPerToken: number
  readonly fused: EngineBenchFused
  readonly roundsPlans: readonly EngineBenchRoundsPlan[]
  readonly prefill: EngineBenchPrefill
  readonly coefficient: EngineBenchCoefficient
  readonly packedVsCoefficient: EngineBenchPackedVsCoefficient
  /** Galois key bytes the user sends each miner session (once; 0 when nothing is packed). */
  readonly keyBytesPerSession: number
  /**
   * The squeeze of the he-local plan, timed in the same run: searching (each packed matrix's
   * own noise bound and prefill plan) and again with the plan memo that search filled (a
   * later visit's or start's squeeze), and their ratio.
   */
  readonly squeezeTime: { readonly searchMs: number, readonly rememberedMs: number, readonly ratio: number, readonly memoEntries: number }
}

/** The report. */
export interface EngineBenchReport {
  readonly runtime: 'node' | 'chromium'
  readonly models: EngineBenchModel[]
}

async function timeTokens (engine: AsyncLogitsEngine, tok: Tokenizer, steps: number): Promise<{ tokens: number[], ms: number, firstMs: number }> {
  const sampler = createSampler({ temperature: 0, topp: 0.9 }, createRng(1))
  const out: number[] = []
  const t0 = performance.now()
  let firstMs = 0
  for await (const t of generateAsync(engine, tok, sampler, { prompt: '', steps })) {
    if (out.length === 0) firstMs = performance.now() - t0
    out.push(t.token)
  }
  return { tokens: out, ms: performance.now() - t0, firstMs }
}

async function heRun (seal: Seal, ckpt: Checkpoint, tok: Tokenizer, opts: SqueezeOptions, steps: number): Promise<{ sq: SqueezedModel, stats: BackendStats, tokens: number[], ms: number, firstMs: number, prepareMs: number, predicted: number }> {
  const { network, ...squeeze } = opts
  const { session, miner } = localHe(seal)
  const p0 = performance.now()
  // The user's pipeline, as the app and the CLI assemble it (he-local: the miner in-process).
  const gen = await createPrivateGeneration({ ckpt, tokenizer: tok }, { session, miners: miner }, { network, squeeze, maxAttempts: 1 })
  const prepareMs = performance.now() - p0
  const tokens: number[] = []
  let firstMs = 0
  const t0 = performance.now()
  await gen.generate('', { temperature: 0, topp: 0.9, seed: 1, steps }, {
    onToken: t => {
      if (tokens.length === 0) firstMs = performance.now() - t0
      tokens.push(t.token)
    }
  })
  const ms = performance.now() - t0
  await gen.close()
  session.close?.()
  miner.close?.()
  return { sq: gen.squeezed, stats: gen.stats, tokens, ms, firstMs, prepareMs, predicted: predictToken(gen.squeezed).totalMs }
}

/** Benchmark one model. `naiveTokens` (default 2) bounds the slow naive run. */
export async function benchEngineModel (seal: Seal, name: string, ckpt: Checkpoint, tok: Tokenizer, opts: { tokens: number, naiveTokens?: number, network?: NetworkProfile, prefillTokens?: number }): Promise<EngineBenchModel> {
  const steps = opts.tokens
  const network = opts.network ?? NETWORKS.loopback
  // plaintext baselines, same run
  const f32 = createEngine('f32-fast', ckpt)
  let t0 = performance.now()
  const f32Tokens = [...generate(f32, tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: '', steps })].length
  const f32Ms = performance.now() - t0
  const w8 = createEngine('w8a8', ckpt)
  t0 = performance.now()
  const w8Tokens = [...generate(w8, tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: '', steps })].map(t => t.token)
  const w8Ms = performance.now() - t0
  const memo: PlanMemo = new Map()
  t0 = performance.now()
  squeezeModel(ckpt, { network, memo })
  const searchMs = performance.now() - t0
  t0 = performance.now()
  squeezeModel(ckpt, { network, memo })
  const rememberedMs = performance.now() - t0
  const he = await heRun(seal, ckpt, tok, { network }, steps)
  // squeezed w8a8 backend (the twin of the plan he-local ran) — must print its tokens
  const sq = he.sq
  const twin = await timeTokens(privateEngine(sq.params, squeezedW8a8Backend(sq)), tok, steps)
  // today's coefficient-only plan (no Galois keys), same run: the baseline of the packed scheme
  const coeff = await heRun(seal, ckpt, tok, { network, scheme: 'coeff' }, steps)
  const coeffTwin = await timeTokens(privateEngine(coeff.sq.params, squeezedW8a8Backend(coeff.sq)), tok, steps)
  const stats = he.stats
  const n = he.tokens.length
  const naive = await heRun(seal, ckpt, tok, { ...NAIVE, network }, Math.min(steps, opts.naiveTokens ?? 2))
  const naiveMs = naive.ms / naive.tokens.length
  const squeezedMs = he.ms / n
  const ladder: Array<[string, SqueezeOptions]> = [
    ['naive: no fusion, no folding, all encrypted, n_i = 32', { ...NAIVE, network }],
    ['+ fusion', { ...NAIVE, fuse: true, network }],
    ['+ folding', { ...NAIVE, fuse: true, fold: true, network }],
    ['+ placement', { fuse: true, fold: true, placement: 'auto', fixedNi: 32, network }],
    ['+ planned packing, coefficient scheme', { network, scheme: 'coeff' }],
    ['+ packed results where they pay (the squeezed plan)', { network, exactPlans: false }]
  ]
  const squeezeSteps = ladder.map(([step, o]) => {
    const p = predictToken(squeezeModel(ckpt, { exactPlans: false, ...o }))
    return { step, predictedMsPerToken: p.totalMs, bytesPerToken: p.bytesUp + p.bytesDown }
  })
  let encryptedGroups = 0
  for (const g of sq.groups.values()) if (g.placement === 'encrypted') encryptedGroups++
  // The round-fused plan, same run: he-local against its plaintext twin.
  const fusedOpts: SqueezeOptions = { network, rounds: 'fused' }
  const fused = await heRun(seal, ckpt, tok, fusedOpts, steps)
  const fusedTwin = await timeTokens(privateEngine(fused.sq.params, squeezedW8a8Backend(fused.sq)), tok, steps)
  const fs = fused.stats
  const fn = fused.tokens.length
  const roundsPlans = (['loopback', 'lan', 'wan'] as const).map(name => {
    const r = squeezeModel(ckpt, { network: NETWORKS[name], rounds: 'auto', exactPlans: false }).rounds
    const cost = (p: typeof r.predicted.unfused): { totalMs: number, roundTrips: number, bytes: number } => ({ totalMs: p.totalMs, roundTrips: p.roundTrips, bytes: p.bytesUp + p.bytesDown })
    return { network: name, chosen: r.chosen, unfused: cost(r.predicted.unfused), fused: r.predicted.fused === undefined ? null : cost(r.predicted.fused) }
  })
  let packedMatrices = 0
  let encryptedMatrices = 0
  for (const g of sq.groups.values()) {
    if (g.placement !== 'encrypted') continue
    encryptedMatrices += g.plans.length
    packedMatrices += g.plans.filter(p => p?.scheme === 'packed').length
  }
  const cs = coeff.stats
  const cn = coeff.tokens.length
  const same = (a: readonly number[], b: readonly number[]): boolean => JSON.stringify(a) === JSON.stringify(b)
  const prefillTokens = Math.max(4, Math.min(PREFILL_MAX_TOKENS, Math.floor(PREFILL_BUDGET_MS / squeezedMs)))
  const prefill = await prefillRun(seal, he.sq, opts.prefillTokens ?? prefillTokens)
  const f32TokPerS = f32Tokens / (f32Ms / 1000)
  const heTokPerS = n / (he.ms / 1000)
  return {
    model: name,
    tokens: n,
    f32TokPerS,
    w8a8TokPerS: w8Tokens.length / (w8Ms / 1000),
    heTokPerS,
    ratio: f32TokPerS / heTokPerS,
    userMsPerToken: stats.userMs / n,
    minerMsPerToken: stats.minerMs / n,
    verifyShare: stats.verifyMs / stats.userMs,
    bytesUpPerToken: stats.bytesUp / n,
    bytesDownPerToken: stats.bytesDown / n,
    bytesPerToken: (stats.bytesUp + stats.bytesDown) / n,
    timeToFirstTokenMs: he.firstMs,
    // he-local = its plan's twin, and an unfused twin = the w8a8 engine (a fused plan rounds differently: its twin is the reference)
    tokensMatch: same(he.tokens, twin.tokens) && (sq.rounds.chosen === 'fused' || same(twin.tokens, w8Tokens)),
    prepareMs: he.prepareMs,
    predictedMsPerToken: he.predicted,
    naiveMsPerToken: naiveMs,
    squeezedMsPerToken: squeezedMs,
    squeezeSpeedup: naiveMs / squeezedMs,
    plan: { encryptedGroups, localGroups: sq.groups.size - encryptedGroups, network: network.name },
    squeezeSteps,
    roundTripsPerToken: stats.rounds / n,
    fused: {
      heTokPerS: fn / (fused.ms / 1000),
      msPerToken: fused.ms / fn,
      tokensMatch: JSON.stringify(fused.tokens) === JSON.stringify(fusedTwin.tokens),
      roundTripsPerToken: fs.rounds / fn,
      userMsPerToken: fs.userMs / fn,
      minerMsPerToken: fs.minerMs / fn,
      bytesPerToken: (fs.bytesUp + fs.bytesDown) / fn,
      prepareMs: fused.prepareMs,
      predictedMsPerToken: fused.predicted,
      speedVsUnfused: squeezedMs / (fused.ms / fn)
    },
    roundsPlans,
    prefill,
    coefficient: {
      heTokPerS: cn / (coeff.ms / 1000),
      msPerToken: coeff.ms / cn,
      userMsPerToken: cs.userMs / cn,
      minerMsPerToken: cs.minerMs / cn,
      bytesPerToken: (cs.bytesUp + cs.bytesDown) / cn,
      tokensMatch: same(coeff.tokens, coeffTwin.tokens),
      prepareMs: coeff.prepareMs
    },
    packedVsCoefficient: {
      bytes: ((stats.bytesUp + stats.bytesDown) / n) / ((cs.bytesUp + cs.bytesDown) / cn),
      userMs: (stats.userMs / n) / (cs.userMs / cn),
      minerMs: (stats.minerMs / n) / (cs.minerMs / cn),
      packedMatrices,
      encryptedMatrices
    },
    squeezeTime: { searchMs, rememberedMs, ratio: rememberedMs / searchMs, memoEntries: memo.size },
    keyBytesPerSession: stats.keyBytes
  }
}

/** A human-readable table. */
export function formatEngineBench (r: EngineBenchReport): string {
  const lines = [
    `Private inference benchmark — ${r.runtime}, one thread (he-local: user and miner in-process), greedy from BOS`,
    '',
    '| model | tokens | f32-fast tok/s | w8a8 tok/s | he-local tok/s | f32/he | user ms/tok | miner ms/tok | verify share | KiB up/down per tok | TTFT ms | tokens match | naive ms/tok | squeezed ms/tok | squeeze speed-up |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'
  ]
  for (const m of r.models) {
    lines.push(`| ${m.model} | ${m.tokens} | ${m.f32TokPerS.toFixed(1)} | ${m.w8a8TokPerS.toFixed(1)} | ${m.heTokPerS.toFixed(2)} | ${m.ratio.toFixed(1)}× | ${m.userMsPerToken.toFixed(1)} | ${m.minerMsPerToken.toFixed(1)} | ${(100 * m.verifyShare).toFixed(2)} % | ${(m.bytesUpPerToken / 1024).toFixed(0)} / ${(m.bytesDownPerToken / 1024).toFixed(0)} | ${m.timeToFirstTokenMs.toFixed(0)} | ${m.tokensMatch ? 'yes' : '**NO**'} | ${m.naiveMsPerToken.toFixed(0)} | ${m.squeezedMsPerToken.toFixed(0)} | ${m.squeezeSpeedup.toFixed(2)}× |`)
  }
  lines.push('', 'Round-fused plan (issue 12), he-local, same run (in-process there is no round trip to save: this is its compute cost):', '', '| model | unfused tok/s | round trips / tok | fused tok/s | round trips / tok | fused ÷ unfused speed | KiB / tok | fused prepare s | tokens = fused twin |', '|---|---|---|---|---|---|---|---|---|')
  for (const m of r.models) lines.push(`| ${m.model} | ${m.heTokPerS.toFixed(2)} | ${m.roundTripsPerToken.toFixed(1)} | ${m.fused.heTokPerS.toFixed(2)} | ${m.fused.roundTripsPerToken.toFixed(1)} | ${m.fused.speedVsUnfused.toFixed(2)}× | ${(m.fused.bytesPerToken / 1024).toFixed(0)} | ${(m.fused.prepareMs / 1000).toFixed(1)} | ${m.fused.tokensMatch ? 'yes' : '**NO**'} |`)
  lines.push('', 'Predicted ms per token, unfused vs fused (round trips), and what the planner picks:', '', '| model | network | unfused | fused | picks |', '|---|---|---|---|---|')
  for (const m of r.models) for (const p of m.roundsPlans) lines.push(`| ${m.model} | ${p.network} | ${p.unfused.totalMs.toFixed(1)} (${p.unfused.roundTrips}) | ${p.fused === null ? '—' : `${p.fused.totalMs.toFixed(1)} (${p.fused.roundTrips})`} | ${p.chosen} |`)
  lines.push('', 'Packed where it pays (the squeezed plan) vs coefficient only, he-local, same run:', '', '| model | packed matrices | coeff tok/s | KiB / tok coeff → squeezed | bytes ratio | user ms ratio | miner ms ratio | Galois keys KiB / session | coeff tokens = twin |', '|---|---|---|---|---|---|---|---|---|')
  for (const m of r.models) lines.push(`| ${m.model} | ${m.packedVsCoefficient.packedMatrices} / ${m.packedVsCoefficient.encryptedMatrices} | ${m.coefficient.heTokPerS.toFixed(2)} | ${(m.coefficient.bytesPerToken / 1024).toFixed(0)} → ${(m.bytesPerToken / 1024).toFixed(0)} | ${m.packedVsCoefficient.bytes.toFixed(2)}× | ${m.packedVsCoefficient.userMs.toFixed(2)}× | ${m.packedVsCoefficient.minerMs.toFixed(2)}× | ${(m.keyBytesPerSession / 1024).toFixed(0)} | ${m.coefficient.tokensMatch ? 'yes' : '**NO**'} |`)
  lines.push('', 'Time to first token, he-local: the prompt in one batched pass (batched jobs where a prefill plan exists; and every vector its own job) vs one token at a time:', '', '| model | prompt tokens | prefill plan | batched ms | vector jobs ms | one by one ms | ratio | ÷ vector jobs | miner ms b / v / 1 | KiB up b / v / 1 | jobs b / v / 1 | rounds | logits equal |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|')
  for (const m of r.models) {
    const p = m.prefill
    const three = (f: (x: EngineBenchPrefill['runs']['batched']) => number): string => [p.runs.batched, p.runs.vectorJobs, p.runs.oneByOne].map(x => f(x).toFixed(0)).join(' / ')
    lines.push(`| ${m.model} | ${p.promptTokens} | ${p.prefillPlan === null ? '—' : `${p.prefillPlan.batch} × (${p.prefillPlan.vectors} / ct)`} | ${p.batchedMs.toFixed(0)} | ${p.vectorJobsMs.toFixed(0)} | ${p.oneByOneMs.toFixed(0)} | ${p.ratio.toFixed(2)} | ${p.ratioVsVectorJobs.toFixed(2)} | ${three(x => x.minerMs)} | ${three(x => x.bytesUp / 1024)} | ${three(x => x.jobs)} | ${p.roundsBatched} vs ${p.roundsOneByOne} | ${p.logitsMatch ? 'yes' : '**NO**'} |`)
  }
  lines.push('', 'The squeeze of the he-local plan, same run: searching, and again from the plan memo that search filled (a later visit):', '', '| model | searching s | remembered s | ratio | memo entries |', '|---|---|---|---|---|')
  for (const m of r.models) lines.push(`| ${m.model} | ${(m.squeezeTime.searchMs / 1000).toFixed(2)} | ${(m.squeezeTime.rememberedMs / 1000).toFixed(2)} | ${m.squeezeTime.ratio.toFixed(2)}× | ${m.squeezeTime.memoEntries} |`)
  for (const m of r.models) {
    lines.push('', `What each squeezing step buys for ${m.model} (predicted per token, plan for "${m.plan.network}"):`, '', '| step | ms / token | KiB / token |', '|---|---|---|')
    for (const s of m.squeezeSteps) lines.push(`| ${s.step} | ${s.predictedMsPerToken.toFixed(1)} | ${(s.bytesPerToken / 1024).toFixed(0)} |`)
  }
  return lines.join('\n') + '\n'
}
