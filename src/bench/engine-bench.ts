/**
 * The private inference engine benchmark, platform-neutral: for a model, tokens/s of the
 * fastest plaintext engine (f32-fast), of w8a8 and of he-local (squeezed plan; user and
 * in-process miner in one thread), measured in the same run; per-token user/miner ms,
 * bytes, time to first token; whether he-local printed exactly w8a8's tokens; and the
 * naive plan's per-token time against the squeezed one.
 */
import { createPrivateGeneration } from '../app/index.ts'
import { generateAsync, localHe, privateEngine, squeezedW8a8Backend, type AsyncLogitsEngine, type BackendStats } from '../core/engine/index.ts'
import type { Seal } from '../core/he/index.ts'
import { NETWORKS, type NetworkProfile } from '../core/he/index.ts'
import { createEngine, createRng, createSampler, generate, type Checkpoint, type Tokenizer } from '../core/model/index.ts'
import { NAIVE, predictToken, squeezeModel, type SqueezeOptions } from '../core/squeeze/index.ts'

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

async function heRun (seal: Seal, ckpt: Checkpoint, tok: Tokenizer, opts: SqueezeOptions, steps: number): Promise<{ stats: BackendStats, tokens: number[], ms: number, firstMs: number, prepareMs: number, predicted: number }> {
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
  return { stats: gen.stats, tokens, ms, firstMs, prepareMs, predicted: predictToken(gen.squeezed).totalMs }
}

/** Benchmark one model. `naiveTokens` (default 2) bounds the slow naive run. */
export async function benchEngineModel (seal: Seal, name: string, ckpt: Checkpoint, tok: Tokenizer, opts: { tokens: number, naiveTokens?: number, network?: NetworkProfile }): Promise<EngineBenchModel> {
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
  // squeezed w8a8 backend (the twin of the plan) — must equal the w8a8 engine
  const sq = squeezeModel(ckpt, { network })
  const twin = await timeTokens(privateEngine(sq.params, squeezedW8a8Backend(sq)), tok, steps)
  const he = await heRun(seal, ckpt, tok, { network }, steps)
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
    ['+ planned packing (the squeezed plan)', { network }]
  ]
  const squeezeSteps = ladder.map(([step, o]) => {
    const p = predictToken(squeezeModel(ckpt, o))
    return { step, predictedMsPerToken: p.totalMs, bytesPerToken: p.bytesUp + p.bytesDown }
  })
  let encryptedGroups = 0
  for (const g of sq.groups.values()) if (g.placement === 'encrypted') encryptedGroups++
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
    tokensMatch: JSON.stringify(he.tokens) === JSON.stringify(w8Tokens) && JSON.stringify(twin.tokens) === JSON.stringify(w8Tokens),
    prepareMs: he.prepareMs,
    predictedMsPerToken: he.predicted,
    naiveMsPerToken: naiveMs,
    squeezedMsPerToken: squeezedMs,
    squeezeSpeedup: naiveMs / squeezedMs,
    plan: { encryptedGroups, localGroups: sq.groups.size - encryptedGroups, network: network.name },
    squeezeSteps
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
  for (const m of r.models) {
    lines.push('', `What each squeezing step buys for ${m.model} (predicted per token, plan for "${m.plan.network}"):`, '', '| step | ms / token | KiB / token |', '|---|---|---|')
    for (const s of m.squeezeSteps) lines.push(`| ${s.step} | ${s.predictedMsPerToken.toFixed(1)} | ${(s.bytesPerToken / 1024).toFixed(0)} |`)
  }
  return lines.join('\n') + '\n'
}
