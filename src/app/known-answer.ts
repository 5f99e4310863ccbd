/**
 * The validator's exact check, wrapped around a user's components: private generation runs
 * as for any user (the same plans, jobs and timing), and every decrypted result is also
 * compared with the plaintext integer matvec of the input the validator itself encrypted —
 * no probability: a result is right or it is not. Each job is credited to the
 * miner that answered it (or, for a job split across miners, to each part's miner on its
 * own rows). The user's Freivalds check still runs on every result too (the backend's).
 *
 * How a result finds its input: `encrypt` (or `encryptBatch`) remembers the inputs under the first ciphertext;
 * `compute` finds it by those bytes (compared whole, so a match is certain) and files it
 * under the returned results array, which the backend hands unchanged to `decrypt`.
 */
import type { HeSession, JobResult, MinerLink } from '../core/engine/index.ts'
import { plainIntMatvec } from '../core/engine/index.ts'
import { blockRows, type MatvecPlan } from '../core/he/index.ts'
import { squeezedMatrix, type SqueezedModel } from '../core/squeeze/index.ts'
import { baseMatrixId } from '../core/squeeze/index.ts'
import type { PrivateGenerationComponents } from './private-generation.ts'

/**
 * Bounds, and why.
 * - maxRemembered: inputs kept for retries; the backend has at most 16 jobs in flight
 *   (HE_BACKEND_LIMITS) and re-sends a rejected one at once, so 256 is ample.
 * - maxLatencies: latency samples kept per miner for its p50/p95.
 */
export const KNOWN_ANSWER_LIMITS = Object.freeze({ maxRemembered: 256, maxLatencies: 512 })

/** What one validator found of one miner. */
export interface MinerTally {
  /** Results checked exactly: right, wrong. */
  passed: number
  failed: number
  /** Round trips of answered jobs, ms (the latest {@link KNOWN_ANSWER_LIMITS}.maxLatencies). */
  readonly latencies: number[]
}

interface Known { readonly ct: Uint8Array, readonly xs: readonly Int8Array[], readonly plan: MatvecPlan }
interface Pending extends Known { readonly matrixId: string, readonly result: JobResult, readonly by: string, readonly ms: number }

const rowRange = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i)

// The rows of vector k that blocks [first, end) of a job of `plan` compute.
const partRows = (plan: MatvecPlan, blocks: readonly [number, number], k: number): number[] => {
  const rows: number[] = []
  for (let b = blocks[0]; b < blocks[1]; b++) rows.push(...blockRows(plan, b, k))
  return rows
}

/** A fresh tally. */
export function emptyTally (): MinerTally {
  return { passed: 0, failed: 0, latencies: [] }
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

// A ciphertext's tail is its random coefficients: a good bucket key (the match is still checked whole).
const keyOf = (ct: Uint8Array): string => `${ct.length}:${Array.from(ct.subarray(Math.max(0, ct.length - 24))).join(',')}`

/**
 * `components` with the exact check added; `tally` (per miner) is updated as results come
 * back, and `onResult` told of each.
 */
export function knownAnswerCheck (sq: SqueezedModel, components: PrivateGenerationComponents, tally: Map<string, MinerTally>, onResult?: (miner: string, ok: boolean) => void): PrivateGenerationComponents {
  const { session, miners } = components
  const known = new Map<string, Known[]>()
  const order: string[] = []
  const pending = new WeakMap<Uint8Array[], Pending>()
  const remember = (k: Known): void => {
    const key = keyOf(k.ct)
    known.set(key, [...(known.get(key) ?? []), k])
    order.push(key)
    if (order.length > KNOWN_ANSWER_LIMITS.maxRemembered) {
      const old = order.shift() as string
      const list = known.get(old)?.slice(1) ?? []
      if (list.length > 0) known.set(old, list)
      else known.delete(old)
    }
  }
  const find = (ct: Uint8Array | undefined): Known | undefined => ct === undefined ? undefined : known.get(keyOf(ct))?.find(k => equalBytes(k.ct, ct))
  const credit = (miner: string, ok: boolean, ms?: number): void => {
    const t = tally.get(miner) ?? emptyTally()
    if (ok) t.passed++
    else t.failed++
    if (ms !== undefined) {
      t.latencies.push(ms)
      if (t.latencies.length > KNOWN_ANSWER_LIMITS.maxLatencies) t.latencies.shift()
    }
    tally.set(miner, t)
    onResult?.(miner, ok)
  }
  // each y (dOut,) against W x: each miner is judged on the rows it computed, of every vector
  const judge = (p: Pending, ys: readonly Int32Array[] | undefined): void => {
    const w = squeezedMatrix(sq, baseMatrixId(p.matrixId))
    const truths = w === undefined ? undefined : p.xs.map(x => plainIntMatvec(w, x))
    const rowRight = (k: number, r: number): boolean => ys?.[k] !== undefined && truths !== undefined && ys[k].length === truths[k].length && ys[k][r] === truths[k][r]
    const allRight = (rows: (k: number) => Iterable<number>): boolean => {
      if (ys === undefined || truths === undefined || ys.length !== p.xs.length) return false
      for (let k = 0; k < p.xs.length; k++) for (const r of rows(k)) if (!rowRight(k, r)) return false
      return true
    }
    const parts = p.result.parts
    if (parts === undefined || parts.length === 0) { credit(p.by, allRight(() => rowRange(0, p.plan.dOut)), p.result.minerMs ?? p.ms); return }
    for (const part of parts) credit(part.miner, allRight(k => partRows(p.plan, part.blocks, k)))
  }

  // Decrypt, then judge the job whose results these are (a result that cannot be decrypted is wrong).
  const decrypted = async (results: Uint8Array[], run: () => Promise<Int32Array[]>): Promise<Int32Array[]> => {
    const p = pending.get(results)
    pending.delete(results)
    let ys: Int32Array[]
    try {
      ys = await run()
    } catch (err) {
      if (p !== undefined) judge(p, undefined)
      throw err
    }
    if (p !== undefined) judge(p, ys)
    return ys
  }
  const checkedSession: HeSession = {
    async encrypt (plan, x) {
      const keep = x.slice() // the session may transfer x to its worker
      const r = await session.encrypt(plan, x)
      if (r.ciphertexts.length > 0) remember({ ct: r.ciphertexts[0].slice(), xs: [keep], plan })
      return r
    },
    async decrypt (plan, results, epoch) {
      return (await decrypted(results, async () => [await session.decrypt(plan, results, epoch)]))[0]
    },
    // batched prefill jobs, as a user's session sends them (what a cheat sees must not differ)
    ...(session.encryptBatch === undefined || session.decryptBatch === undefined
      ? {}
      : {
          encryptBatch: async (plan: MatvecPlan, xs: Int8Array[]) => {
            const keep = xs.map(x => x.slice())
            const r = await (session.encryptBatch as NonNullable<HeSession['encryptBatch']>)(plan, xs)
            if (r.ciphertexts.length > 0) remember({ ct: r.ciphertexts[0].slice(), xs: keep, plan })
            return r
          },
          decryptBatch: async (plan: MatvecPlan, results: Uint8Array[], epoch: number) =>
            await decrypted(results, async () => await (session.decryptBatch as NonNullable<HeSession['decryptBatch']>)(plan, results, epoch))
        }),
    ...(session.galoisKeys === undefined ? {} : { galoisKeys: session.galoisKeys.bind(session) }),
    // fresh keys after a rejection, as a user's session makes them (what a cheat sees of a
    // validator must not differ); old ciphertexts stay remembered, as their known answers
    ...(session.rotate === undefined ? {} : { rotate: session.rotate.bind(session) }),
    ...(session.localMatvecs === undefined ? {} : { localMatvecs: session.localMatvecs.bind(session) }),
    ...(session.close === undefined ? {} : { close: session.close.bind(session) })
  }
  const checkedMiners: MinerLink = {
    name: miners.name,
    prepare: async (id, plan, w) => await miners.prepare(id, plan, w),
    async compute (matrixId, inputs, jobId, blocks) {
      const k = find(inputs[0])
      const t0 = performance.now()
      const result = await miners.compute(matrixId, inputs, jobId, blocks)
      if (k !== undefined) pending.set(result.results, { ...k, matrixId, result, by: result.miner ?? miners.name, ms: performance.now() - t0 })
      return result
    },
    ...(miners.reject === undefined ? {} : { reject: miners.reject.bind(miners) }),
    ...(miners.setKeys === undefined ? {} : { setKeys: miners.setKeys.bind(miners) }),
    ...(miners.close === undefined ? {} : { close: miners.close.bind(miners) })
  }
  return { session: checkedSession, miners: checkedMiners }
}
