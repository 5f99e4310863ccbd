/**
 * The encrypted backend: every group placed "encrypted" is computed by a miner on
 * ciphertexts and verified with Freivalds before it is used; "local" groups are computed
 * in the clear. The same backend serves `he-local` (an in-process miner) and the mesh
 * (remote miners): only the {@link MinerLink} differs.
 *
 * A round's parts — several groups, several matrices, T vectors each in a batched
 * prefill — go out at once and the round is one round trip (`stats.rounds`), at most
 * {@link HE_BACKEND_LIMITS}.maxInFlightJobs jobs in flight. A matrix with a prefill plan
 * (squeeze.ts, `prefillPlans`: packed, B vectors per job, v per ciphertext) takes a round's
 * vectors B at a time as one job — one encrypt, one `MinerLink.compute`, one decrypt, a
 * Freivalds check per vector — and the rest one vector per job.
 *
 * Any rejected or malformed result rotates the user's keys before anything more is
 * encrypted, and jobs still under the old keys are encrypted again and re-sent
 * (key-rotation.ts: the reaction attack this closes, and the barrier).
 */
import { blockRows, type MatvecPlan } from '../he/plan.ts'
import { CerberusError } from '../errors.ts'
import { HeJobError, HeParamsError, HeWireError } from '../he/errors.ts'
import { paramsKey } from '../he/params.ts'
import { formatMatrixId, prefillMatrixId } from '../squeeze/matrix-id.ts'
import { groupFor, type SqueezedGroup, type SqueezedModel } from '../squeeze/squeeze.ts'
import { cryptoWords, freivaldsCheck, freivaldsKey, VerificationError, type FreivaldsKey } from '../verify/freivalds.ts'
import { asRound, emptyStats, type LinearBackend } from './backend.ts'
import { isKeysRotated, keyGuard } from './key-rotation.ts'
import { plainIntMatvec, plainIntMatvecs, runQuantizedGroup, type IntMatrix, type IntMatvec } from './quantized.ts'

/** Bounds of the encrypted backend. */
export const HE_BACKEND_LIMITS = Object.freeze({
  /**
   * Jobs in flight at once (a round's matrices × vectors): below the 24 jobs a miner queues
   * per session (src/net/miner-service.ts, MINER_QUEUE.maxPerSession), so a long prompt's
   * batch never meets a busy miner; 16 already hides the round trip behind the compute.
   */
  maxInFlightJobs: 16,
  /**
   * Times one job is encrypted again because the keys rotated under it before its result
   * could be used. Each needs a rotation, i.e. another job's rejected result while this one
   * was in flight (at most maxInFlightJobs − 1 of them per round); more means the mesh is
   * mostly cheats, and the job fails with a typed error instead of looping.
   */
  maxKeyResends: 32
})

/** A job was re-encrypted more than {@link HE_BACKEND_LIMITS}.maxKeyResends times. */
export class KeyChurnError extends CerberusError {
  constructor (message: string) {
    super('KEY_CHURN', message)
  }
}

/** The user's HE side: encryption and decryption (keys stay inside). */
export interface HeSession {
  /** Encrypt one vector; `epoch` names the keys it was encrypted under (it changes when they do). */
  encrypt: (plan: MatvecPlan, x: Int8Array) => Promise<{ ciphertexts: Uint8Array[], epoch: number }>
  /**
   * Decrypt a job's results.
   * @throws {HeKeysRotatedError} when `epoch` is not the current keys' (encrypt again).
   */
  decrypt: (plan: MatvecPlan, results: Uint8Array[], epoch: number) => Promise<Int32Array>
  /**
   * Encrypt the `plan.batch` vectors of one batched job (HeUser.encryptBatch). Absent: the
   * backend sends one vector per job.
   */
  encryptBatch?: (plan: MatvecPlan, xs: Int8Array[]) => Promise<{ ciphertexts: Uint8Array[], epoch: number }>
  /**
   * The results of each vector of a batched job.
   * @throws {HeKeysRotatedError} when `epoch` is not the current keys' (encrypt again).
   */
  decryptBatch?: (plan: MatvecPlan, results: Uint8Array[], epoch: number) => Promise<Int32Array[]>
  /**
   * The Galois key set of a packed plan's parameters: public key material (it lets a miner
   * pack results, it decrypts nothing), made with the secret key inside the session.
   */
  galoisKeys?: (plan: MatvecPlan) => Promise<Uint8Array>
  /**
   * Replace every key with fresh ones (a new secret key; new Galois keys on their next use),
   * the secret never leaving the session: encryptions after it resolves return a new epoch,
   * and results of earlier epochs are refused with HeKeysRotatedError. The backend calls it
   * after any rejected result; a session without it cannot go on after one.
   */
  rotate?: () => Promise<void>
  /**
   * A "local" group's products (public weights, the user's own inputs) computed off the
   * caller's thread — in the user's worker, so that a page's UI thread does no big matvec
   * (a 32,000 × 768 classifier is ~25 M multiply-adds a token). The same integer
   * arithmetic as {@link plainIntMatvec}, so the tokens do not change. Absent: computed
   * in the caller's thread.
   */
  localMatvecs?: (matrixId: string, m: IntMatrix, xqs: readonly Int8Array[]) => Promise<Int32Array[]>
  close?: () => void
}

/** A way to reach a miner that holds the model's matrices. */
export interface MinerLink {
  /** A name for errors and reports. */
  readonly name: string
  /** Hand the miner a matrix (public weights) under an id. */
  prepare: (matrixId: string, plan: MatvecPlan, w: Int8Array) => Promise<unknown>
  /**
   * One job: inputs in, results out (one ciphertext per output block, in order), with the
   * miner's compute time when known and — for a link over several miners — which miner
   * answered, or, when the blocks were split across miners, which blocks each answered.
   * `blocks` asks for output blocks [first, end) only (default all).
   */
  compute: (matrixId: string, inputs: Uint8Array[], jobId: string, blocks?: readonly [number, number]) => Promise<JobResult>
  /**
   * A result from `miner` failed verification: stop using that miner (a scheduler drops it
   * and the job is re-run elsewhere). Nothing is sent to the miner.
   */
  reject?: (miner: string, job: string) => void
  /**
   * The user's Galois key set for packed plans with `plan`'s parameters: the link hands it
   * to every miner before their first packed job (and again when a miner lost it).
   */
  setKeys?: (plan: MatvecPlan, keys: Uint8Array) => Promise<void>
  close?: () => void
}

/** What a job returns. */
export interface JobResult {
  readonly results: Uint8Array[]
  readonly minerMs?: number
  readonly miner?: string
  /** When several miners each computed a range of blocks: who computed which. */
  readonly parts?: ReadonlyArray<{ readonly miner: string, readonly blocks: readonly [number, number] }>
  /**
   * Bytes sent for this job as they went on the wire (frames, retries and split parts each
   * counted), when the link knows; receipts fall back to the inputs' size.
   */
  readonly bytesSent?: number
}

/** Options of {@link heBackend}. */
export interface HeBackendOptions {
  /** Verify every result with Freivalds (default true). */
  readonly verify?: boolean
  /** Random 32-bit words for the Freivalds secrets (default: crypto). */
  readonly randomWords?: (n: number) => Uint32Array
  /** Called when a result is rejected, before the VerificationError is thrown or the job re-run. */
  readonly onRejected?: (e: VerificationError) => void
  /**
   * How many times a job is tried when results are rejected (default 1: fail at once). With
   * a link over several miners, each retry goes to another miner.
   */
  readonly maxAttempts?: number
  /** Sees each quantized input before it is encrypted (audits and the privacy tests). */
  readonly onQuantizedInput?: (matrixId: string, xq: Int8Array) => void
  /** Jobs in flight at once (default {@link HE_BACKEND_LIMITS}.maxInFlightJobs). */
  readonly maxInFlight?: number
  /**
   * Padding (issue 16): how many vectors each encrypted matrix of a round of `vectors` is
   * sent as. The extra ones are dummy jobs (zero vectors, encrypted, computed, verified and
   * rejected like the others, results discarded), in the same round as the real ones, so a
   * miner cannot tell them apart. Default: no padding.
   */
  readonly padBatch?: (vectors: number) => number
}

// At most `max` calls of `fn` run at once; the others wait in arrival order.
function limiter (max: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0
  const waiting: Array<() => void> = []
  return async (fn) => {
    while (active >= max) await new Promise<void>(resolve => waiting.push(resolve))
    active++
    try {
      return await fn()
    } finally {
      active--
      waiting.shift()?.()
    }
  }
}

/**
 * Who to blame for a rejected result. One miner: that one. Blocks split across miners:
 * the user holds the (public) weights, so on this rare path she computes the product in the
 * clear and blames exactly the miners whose rows differ; a result that could not even be
 * decrypted cannot be attributed to one part, so every miner of the job is dropped.
 */
function culprits (m: IntMatrix, plan: MatvecPlan, xq: Int8Array, y: Int32Array | undefined, vector: number, by: string, parts: JobResult['parts']): string[] {
  const all = [...new Set((parts ?? []).map(p => p.miner))]
  if (all.length <= 1) return [by]
  if (y === undefined) return all
  const truth = plainIntMatvec(m, xq)
  const wrong = (parts ?? []).filter(p => {
    for (let b = p.blocks[0]; b < p.blocks[1]; b++) {
      for (const r of blockRows(plan, b, vector)) if (truth[r] !== y[r]) return true
    }
    return false
  }).map(p => p.miner)
  return wrong.length > 0 ? [...new Set(wrong)] : all
}

/** Matrix id of matrix i of a group (formatted in squeeze/matrix-id.ts, where it is parsed too). */
export function matrixId (g: SqueezedGroup, i: number): string {
  return formatMatrixId(g.group, g.layer, i)
}

/** The encrypted backend, once every encrypted matrix is prepared on the miner. */
export async function heBackend (sq: SqueezedModel, session: HeSession, miner: MinerLink, opts: HeBackendOptions = {}): Promise<LinearBackend> {
  const stats = emptyStats()
  const verify = opts.verify ?? true
  const keys = new Map<string, FreivaldsKey>()
  // Batched prefill jobs need a session that encrypts batches (a worker of this version).
  const batching = session.encryptBatch !== undefined && session.decryptBatch !== undefined
  const canKey = session.galoisKeys !== undefined && miner.setKeys !== undefined
  // A matrix's prefill plan, where this session and link can run it (a coefficient matrix's
  // prefill plan may be packed: without Galois keys its prompt goes one vector per job).
  const prefillOf = (g: SqueezedGroup, i: number): MatvecPlan | undefined => {
    const pre = batching ? g.prefillPlans?.[i] : undefined
    return pre !== undefined && (pre.scheme !== 'packed' || canKey) ? pre : undefined
  }
  const packed = new Map<string, MatvecPlan>() // one plan per packed parameter set: one Galois key set each
  for (const g of sq.groups.values()) {
    if (g.placement !== 'encrypted') continue
    for (let i = 0; i < g.matrices.length; i++) {
      const pre = prefillOf(g, i)
      for (const plan of [g.plans[i] as MatvecPlan, ...(pre === undefined ? [] : [pre])]) {
        if (plan.scheme !== 'packed' || packed.has(paramsKey(plan.params))) continue
        if (!canKey) throw new HeParamsError(`matrix ${matrixId(g, i)} has a packed plan, but the ${session.galoisKeys === undefined ? 'HE session makes no Galois keys' : `link to ${miner.name} cannot carry them`}`)
        packed.set(paramsKey(plan.params), plan)
      }
    }
  }
  const guard = keyGuard(session, miner, [...packed.values()], { rotated: () => { stats.keyRotations++ }, keysSent: bytes => { stats.keyBytes += bytes } })
  await guard.sendKeys()
  for (const g of sq.groups.values()) {
    if (g.placement !== 'encrypted') continue
    for (let i = 0; i < g.matrices.length; i++) {
      const m = g.matrices[i]
      await miner.prepare(matrixId(g, i), g.plans[i] as MatvecPlan, m.q)
      const pre = prefillOf(g, i)
      if (pre !== undefined) await miner.prepare(prefillMatrixId(matrixId(g, i), pre.batch), pre, m.q)
      if (verify) keys.set(matrixId(g, i), freivaldsKey(m.q, m.rows, m.cols, opts.randomWords ?? cryptoWords))
    }
  }
  // A job's name goes to the miner (its wire id): a session-wide counter there would tell a
  // miner how many jobs went elsewhere in between, and its digits would change the frame's
  // size. 48 random bits, always 15 digits: unique in practice (10⁴ jobs collide with
  // probability < 10⁻⁶), the same length for every job.
  const jobName = (id: string): string => {
    const [hi, lo] = cryptoWords(2)
    return `${id}#${String((hi & 0xffff) * 2 ** 32 + lo).padStart(15, '0')}`
  }
  const limit = limiter(Math.max(1, opts.maxInFlight ?? HE_BACKEND_LIMITS.maxInFlightJobs))
  // One job: encrypt one vector (or a prefill plan's batch), compute, decrypt, verify every
  // vector — again under fresh keys after a rejection (its own or another job's). Returns
  // the integer results and the miner's time.
  const job = async (grp: SqueezedGroup, i: number, xqs: readonly Int8Array[], signal: AbortSignal | undefined, zeros = 0): Promise<{ ys: Int32Array[], minerMs: number }> => {
    const batched = xqs.length > 1
    const plan = (batched ? prefillOf(grp, i) : grp.plans[i]) as MatvecPlan
    if (plan.batch !== xqs.length) throw new HeJobError(`${xqs.length} vectors for a job whose plan takes ${plan.batch}`)
    const id = matrixId(grp, i)
    const linkId = batched ? prefillMatrixId(id, plan.batch) : id
    const name = jobName(id)
    for (const xq of xqs.slice(0, xqs.length - zeros)) opts.onQuantizedInput?.(id, xq) // a padded batch's zero vectors are no activation
    const attempts = Math.max(1, opts.maxAttempts ?? 1)
    let minerMs = 0
    let attempt = 0
    let resends = 0
    // The keys rotated under this job: what it holds is never sent or decrypted; encrypt again.
    const stale = (): void => {
      if (++resends > HE_BACKEND_LIMITS.maxKeyResends) throw new KeyChurnError(`job ${name} was encrypted again ${HE_BACKEND_LIMITS.maxKeyResends} times because results of other jobs kept being rejected; the miners are mostly cheating — try again later or with other miners`)
    }
    for (;;) {
      signal?.throwIfAborted()
      await guard.ready()
      const gen = guard.generation
      let sealed: { ciphertexts: Uint8Array[], epoch: number }
      const e0 = performance.now()
      try {
        sealed = batched
          ? await (session.encryptBatch as NonNullable<HeSession['encryptBatch']>)(plan, xqs.map(x => x.slice()))
          : await session.encrypt(plan, xqs[0].slice())
      } catch (err) {
        if (!isKeysRotated(err)) throw err
        stale()
        continue
      } finally {
        stats.encryptMs += performance.now() - e0
      }
      if (!guard.observe(gen, sealed.epoch) || !guard.current(gen)) { stale(); continue }
      stats.bytesUp += sealed.ciphertexts.reduce((a, c) => a + c.byteLength, 0)
      const m0 = performance.now()
      const { results, minerMs: reported, miner: who, parts } = await guard.track(miner.compute(linkId, sealed.ciphertexts, name))
      const waited = performance.now() - m0
      stats.linkMs += waited
      minerMs += reported ?? waited
      stats.bytesDown += results.reduce((a, c) => a + c.byteLength, 0)
      signal?.throwIfAborted()
      if (!guard.current(gen)) { stale(); continue } // its result would test a key that is gone
      const by = who ?? miner.name
      let ys: Int32Array[] | undefined
      let rejection: VerificationError | undefined
      const d0 = performance.now()
      try {
        ys = batched
          ? await (session.decryptBatch as NonNullable<HeSession['decryptBatch']>)(plan, results, sealed.epoch)
          : [await session.decrypt(plan, results, sealed.epoch)]
      } catch (err) {
        if (isKeysRotated(err)) { stale(); continue }
        // A result that cannot be decoded is the miner's fault as much as a wrong one.
        if (!(err instanceof HeWireError || err instanceof HeJobError)) throw err
        rejection = new VerificationError(name, by, 'malformed', err)
      } finally {
        stats.decryptMs += performance.now() - d0
      }
      if (!guard.current(gen)) { stale(); continue } // another job's rejection came first: this outcome is never acted on
      const key = keys.get(id)
      // The vectors whose results are wrong (all of them when nothing could be decrypted).
      const wrong: number[] = []
      if (ys !== undefined && key !== undefined) {
        const v0 = performance.now()
        let passed = 0
        ys.forEach((y, k) => {
          if (freivaldsCheck(key, xqs[k], y)) passed += k < xqs.length - zeros ? 1 : 0
          else wrong.push(k)
        })
        stats.verifyMs += performance.now() - v0
        if (wrong.length > 0) rejection = new VerificationError(name, by)
        else { stats.verified += passed; stats.verifiedJobs++ }
      }
      if (rejection === undefined) return { ys: ys as Int32Array[], minerMs }
      stats.rejected++
      // Fresh keys before anything more is encrypted, this job's retry included.
      guard.rejected(gen)
      opts.onRejected?.(rejection)
      const blamed = (ys === undefined ? xqs.map((_, k) => k) : wrong).flatMap(k => culprits(grp.matrices[i], plan, xqs[k], ys?.[k], k, by, parts))
      for (const liar of new Set(blamed)) miner.reject?.(liar, name)
      if (++attempt >= attempts) throw rejection
    }
  }
  const backend: LinearBackend = {
    name: 'he',
    stats,
    layout: sq.layout,
    async run (req, signal) { await backend.runRound(asRound(req), signal) },
    async runRound (round, signal) {
      signal?.throwIfAborted()
      const t0 = performance.now()
      let minerMs = 0
      // The vectors of an encrypted matrix: B at a time as one job where it has a prefill
      // plan of batch B, the rest one per job; all of the round's jobs at once.
      const encryptedMatvecs: IntMatvec = async (grp, i, xqs) => {
        if (grp.placement === 'local') return session.localMatvecs === undefined ? plainIntMatvecs(grp, i, xqs) : await session.localMatvecs(matrixId(grp, i), grp.matrices[i], xqs)
        const dummies = Math.max(0, (opts.padBatch?.(xqs.length) ?? 0) - xqs.length)
        const sent = dummies === 0 ? xqs : [...xqs, ...Array.from({ length: dummies }, () => new Int8Array(xqs[0].length))]
        const B = prefillOf(grp, i)?.batch ?? 1
        const parts: Array<readonly Int8Array[]> = []
        let zeros = 0
        let k = 0
        for (; B > 1 && k + B <= sent.length; k += B) parts.push(sent.slice(k, k + B))
        // the rest as one batch padded with zero vectors where that is predicted cheaper (their results are dropped)
        const rest = sent.length - k
        const from = grp.prefillFrom?.[i]
        const padRest = B > 1 && rest > 0 && from !== undefined && rest >= from
        if (padRest) { zeros = B - rest; parts.push([...sent.slice(k), ...Array.from({ length: zeros }, () => new Int8Array(sent[0].length))]); k = sent.length }
        for (; k < sent.length; k++) parts.push([sent[k]])
        const done = await Promise.all(parts.map(async (xs, p) => await limit(async () => await job(grp, i, xs, signal, padRest && p === parts.length - 1 ? zeros : 0))))
        for (const d of done) minerMs += d.minerMs
        return done.flatMap(d => d.ys).slice(0, xqs.length)
      }
      const groups = round.map(req => groupFor(sq, req.group, req.layer))
      await Promise.all(round.map(async (req, k) => { await runQuantizedGroup(groups[k], req, encryptedMatvecs) }))
      stats.minerMs += minerMs
      // In-process the jobs run one after another, so this is the user's time; over a
      // network it also holds the waiting that the miners' reported time does not cover.
      stats.userMs += Math.max(0, performance.now() - t0 - minerMs)
      for (const req of round) stats.groups += req.batch
      if (groups.some(g => g.placement === 'encrypted')) stats.rounds++
    },
    close () {
      session.close?.()
      miner.close?.()
    }
  }
  return backend
}
