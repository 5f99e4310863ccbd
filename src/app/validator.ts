/**
 * The validator — the one assembly of a validator, used by `cerberus validator` (and
 * `npm start`'s): a peer that keeps miners honest by being, to them, just another user.
 *
 * Each epoch is one user's visit, drawn from the user job mix (user-mix.ts): a fresh
 * libp2p identity (announced as a user), fresh HE keys and a fresh session id, the user's
 * own scheduler over the announced miners of the model (createMinerLinks — standings and
 * all), and the user's own pipeline (createPrivateGeneration) on a few answers to
 * text-like prompts — with the exact check of known-answer.ts added: the validator
 * encrypted the real activations of its own prompt, so it knows every right answer. So
 * the plans, sizes, counts and timing a miner sees are those of a user by construction.
 * An epoch ends after its answers, or at once after a wrong result (that miner knows now).
 *
 * After each epoch the validator publishes, signed by its long-lived identity (which never
 * sends a job), one score record per miner: jobs, exact passes and failures, latency p50/p95
 * over its whole life — and again every few seconds so books keep them fresh. Publishing
 * only after the epoch means a miner learns which session was a validator's only once that
 * session is over.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { HeSession } from '../core/engine/index.ts'
import { NETWORKS, type NetworkProfile } from '../core/he/index.ts'
import { squeezeModel } from '../core/squeeze/index.ts'
import type { CerberusPeer } from '../net/peer.ts'
import { SCORE_BOOK_DEFAULTS, SCORE_LIMITS, startScorePublisher, type ScoreInfo } from '../net/scores/index.ts'
import { emptyTally, knownAnswerCheck, type MinerTally } from './known-answer.ts'
import { joinMesh } from './mesh-member.ts'
import { createMinerLinks, untilMinersReady } from './miner-links.ts'
import { publicError } from './peer-views.ts'
import { createPrivateGeneration, type GenerationModel } from './private-generation.ts'
import { cryptoRandom, drawVisit, USER_MIX, type UserMix } from './user-mix.ts'

/** Options of {@link startValidator}. */
export interface ValidatorOptions {
  /** The model validated: its miners are those announcing this SHA-256. */
  readonly model: GenerationModel & { readonly name: string, readonly sha256: string }
  /** The validator's long-lived identity: score records are signed with it (it sends no job). */
  readonly privateKey: PrivateKey
  readonly relays: readonly Multiaddr[]
  /** Mean time before each answer, ms (a user reading and typing; default the mix's, 30 s). */
  readonly intervalMs?: number
  /** The user job mix visits are drawn from (default {@link USER_MIX}). */
  readonly mix?: UserMix
  /** The network plans are made for (default lan, as the chat's). */
  readonly network?: NetworkProfile
  /** TESTS ONLY: report every miner as perfect (a lying validator). */
  readonly lie?: boolean
  /** Uniform [0, 1) numbers for the draws (default crypto: miners must not predict them). */
  readonly random?: () => number
  /** Between two publications of every record (default 10 s). */
  readonly publishIntervalMs?: number
  /** How long an epoch waits for a miner of the model (default 15 s). */
  readonly findMinersMs?: number
  readonly onEvent?: (e: ValidatorEvent) => void
}

/** What a validator is built from. */
export interface ValidatorComponents {
  /** The long-lived peer (its identity is `privateKey`'s): it announces a validator and publishes scores. */
  readonly peer: CerberusPeer
  /** A fresh peer for one epoch's jobs, with that epoch's fresh identity. */
  readonly createPeer: (privateKey: PrivateKey) => Promise<CerberusPeer>
  /** A fresh HE session (new keys) for one epoch. */
  readonly newSession: () => HeSession | Promise<HeSession>
}

/** What a validator reports as it goes. */
export type ValidatorEvent =
  | { readonly type: 'epoch', readonly epoch: number, readonly peerId: string }
  | { readonly type: 'answer', readonly epoch: number, readonly tokens: number, readonly ms: number, readonly miners: ReadonlyArray<{ readonly peerId: string, readonly jobs: number }>, readonly wrong: readonly string[] }
  | { readonly type: 'no-miners', readonly epoch: number }
  | { readonly type: 'published', readonly epoch: number, readonly records: number }
  | { readonly type: 'error', readonly epoch: number, readonly error: { readonly code: string, readonly message: string } }

/** A running validator. */
export interface Validator {
  /** The long-lived identity (score records name it). */
  readonly peerId: string
  readonly epoch: number
  /** The records it publishes now. */
  scores: () => ScoreInfo[]
  /** Stop after aborting the answer in progress (the peer stays the caller's). */
  stop: () => Promise<void>
}

/** Everything one validator found of one miner over its life. */
interface Totals extends MinerTally { unanswered: number }

function percentile (xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0
  const s = [...xs].sort((a, b) => a - b)
  return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))])
}

const sleep = async (ms: number, signal: AbortSignal): Promise<void> => {
  await new Promise<void>(resolve => {
    const t = setTimeout(done, ms)
    function done (): void { clearTimeout(t); signal.removeEventListener('abort', done); resolve() }
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Start validating `opts.model`'s miners through `opts.relays`. */
export async function startValidator (opts: ValidatorOptions, components: ValidatorComponents): Promise<Validator> {
  const { peer } = components
  const network = opts.network ?? NETWORKS.lan
  const mix = { ...(opts.mix ?? USER_MIX), ...(opts.intervalMs === undefined ? {} : { thinkMs: opts.intervalMs }) }
  const random = opts.random ?? cryptoRandom
  const emit = (e: ValidatorEvent): void => { opts.onEvent?.(e) }
  // The same squeeze as every user's plan (deterministic), for the plaintext twins.
  const sq = squeezeModel(opts.model.ckpt, { network })
  const totals = new Map<string, Totals>()
  const member = joinMesh(peer, { privateKey: opts.privateKey, relays: opts.relays })
  member.announce(() => ({ role: 'validator' as const, addrs: [], presets: [], capacity: 0, load: 0 }))
  let epoch = 0
  const stopping = new AbortController()

  const scores = (): ScoreInfo[] => {
    const out: ScoreInfo[] = []
    const clamp = (n: number): number => Math.min(n, SCORE_LIMITS.maxJobs)
    for (const [minerId, t] of totals) {
      const answered = t.passed + t.failed
      const [passed, failed] = opts.lie === true ? [answered, 0] : [t.passed, t.failed]
      out.push({ minerId, modelSha256: opts.model.sha256, epoch, jobs: clamp(answered + t.unanswered), passed: clamp(passed), failed: clamp(failed), p50Ms: Math.min(percentile(t.latencies, 0.5), SCORE_LIMITS.maxLatencyMs), p95Ms: Math.min(percentile(t.latencies, 0.95), SCORE_LIMITS.maxLatencyMs) })
    }
    if (opts.lie === true) {
      // a liar vouches for every miner of the model, tested or not
      for (const e of member.table.list()) {
        if (e.role !== 'miner' || e.model?.sha256 !== opts.model.sha256 || totals.has(e.peerId)) continue
        out.push({ minerId: e.peerId, modelSha256: opts.model.sha256, epoch, jobs: 1, passed: 1, failed: 0, p50Ms: 0, p95Ms: 0 })
      }
    }
    return out.slice(0, SCORE_BOOK_DEFAULTS.maxMinersPerValidator)
  }
  const publisher = startScorePublisher(peer, opts.privateKey, scores, { intervalMs: opts.publishIntervalMs })

  const addUp = (tally: ReadonlyMap<string, MinerTally>, unanswered: ReadonlyMap<string, number>): void => {
    for (const id of new Set([...tally.keys(), ...unanswered.keys()])) {
      const t = totals.get(id) ?? { ...emptyTally(), unanswered: 0 }
      const e = tally.get(id)
      t.passed += e?.passed ?? 0
      t.failed += e?.failed ?? 0
      t.latencies.push(...(e?.latencies ?? []))
      t.latencies.splice(0, Math.max(0, t.latencies.length - 512))
      t.unanswered += unanswered.get(id) ?? 0
      totals.delete(id)
      totals.set(id, t) // most recently tested last; the oldest go first when the bound is hit
      if (totals.size > SCORE_BOOK_DEFAULTS.maxMinersPerValidator) totals.delete(totals.keys().next().value as string)
    }
  }

  /** One visit: a fresh identity, keys and session; a few answers; then the scores. */
  const visit = async (): Promise<void> => {
    const signal = stopping.signal
    const n = ++epoch
    const key = await generateKeyPair('Ed25519')
    const jobPeer = await components.createPeer(key)
    const jobMember = joinMesh(jobPeer, { privateKey: key, relays: opts.relays })
    jobMember.announce(() => ({ role: 'user' as const, addrs: [], presets: [], capacity: 0, load: 0 }))
    const session = await components.newSession()
    const links = createMinerLinks(jobMember, { session: crypto.randomUUID(), modelSha256: opts.model.sha256, network })
    const tally = new Map<string, MinerTally>()
    emit({ type: 'epoch', epoch: n, peerId: jobPeer.peerId.toString() })
    try {
      if (!await untilMinersReady(jobMember, links, { timeoutMs: opts.findMinersMs ?? 15_000, signal })) {
        if (!signal.aborted) emit({ type: 'no-miners', epoch: n })
        return
      }
      const gen = await createPrivateGeneration(opts.model, knownAnswerCheck(sq, { session, miners: links.scheduler }, tally), { network, maxAttempts: 3 })
      try {
        for (const a of drawVisit(mix, random)) {
          await sleep(a.thinkMs, signal)
          if (signal.aborted) break
          const wrongBefore = new Map([...tally].map(([m, t]) => [m, t.failed]))
          const r = await gen.generate(a.prompt, { temperature: a.temperature, topp: 0.9, seed: a.seed, maxTokens: a.maxTokens }, { signal })
          const wrong = [...tally].filter(([m, t]) => t.failed > (wrongBefore.get(m) ?? 0)).map(([m]) => m)
          emit({ type: 'answer', epoch: n, tokens: r.tokens, ms: r.ms, miners: r.miners, wrong })
          if (wrong.length > 0) break // those miners know this session now: a new identity
        }
      } catch (err) {
        if (!signal.aborted) emit({ type: 'error', epoch: n, error: publicError(err) })
      } finally {
        await gen.close()
      }
    } finally {
      addUp(tally, links.failed)
      links.stop()
      jobMember.leave()
      session.close?.()
      await Promise.resolve(jobPeer.stop()).catch(() => {})
    }
    if (signal.aborted) return
    await publisher.publishNow()
    emit({ type: 'published', epoch: n, records: scores().length })
  }

  const running = (async () => {
    while (!stopping.signal.aborted) {
      try {
        await visit()
      } catch (err) {
        if (!stopping.signal.aborted) emit({ type: 'error', epoch, error: publicError(err) })
        await sleep(1000, stopping.signal) // e.g. the epoch's peer could not start: try again soon
      }
    }
  })()

  return {
    peerId: peer.peerId.toString(),
    get epoch () { return epoch },
    scores,
    async stop () {
      stopping.abort()
      await running
      publisher.stop()
      member.leave()
    }
  }
}
