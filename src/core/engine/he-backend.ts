/**
 * The encrypted backend: every group placed "encrypted" is computed by a miner on
 * ciphertexts and verified with Freivalds before it is used; "local" groups are computed
 * in the clear. The same backend serves `he-local` (an in-process miner) and, later, the
 * mesh (remote miners): only the {@link MinerLink} differs.
 */
import type { MatvecPlan } from '../he/plan.ts'
import { HeJobError, HeWireError } from '../he/errors.ts'
import { groupFor, type SqueezedGroup, type SqueezedModel } from '../squeeze/squeeze.ts'
import { cryptoWords, freivaldsCheck, freivaldsKey, VerificationError, type FreivaldsKey } from '../verify/freivalds.ts'
import { emptyStats, type LinearBackend } from './backend.ts'
import { formatMatrixId } from './matrix-id.ts'
import { plainIntMatvec, runQuantizedGroup } from './quantized.ts'

/** The user's HE side: encryption and decryption (keys stay inside). */
export interface HeSession {
  encrypt: (plan: MatvecPlan, x: Int8Array) => Promise<{ ciphertexts: Uint8Array[], epoch: number }>
  decrypt: (plan: MatvecPlan, results: Uint8Array[], epoch: number) => Promise<Int32Array>
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
}

/**
 * Who to blame for a rejected result. One miner: that one. Blocks split across miners:
 * the user holds the (public) weights, so on this rare path she computes the product in the
 * clear and blames exactly the miners whose rows differ; a result that could not even be
 * decrypted cannot be attributed to one part, so every miner of the job is dropped.
 */
function culprits (m: { rows: number, cols: number, q: Int8Array }, plan: MatvecPlan, xq: Int8Array, y: Int32Array | undefined, by: string, parts: JobResult['parts']): string[] {
  const all = [...new Set((parts ?? []).map(p => p.miner))]
  if (all.length <= 1) return [by]
  if (y === undefined) return all
  const truth = plainIntMatvec(m as Parameters<typeof plainIntMatvec>[0], xq)
  const nO = plan.split.nO
  const wrong = (parts ?? []).filter(p => {
    for (let r = p.blocks[0] * nO; r < Math.min(p.blocks[1] * nO, plan.dOut); r++) if (truth[r] !== y[r]) return true
    return false
  }).map(p => p.miner)
  return wrong.length > 0 ? [...new Set(wrong)] : all
}

/** Matrix id of matrix i of a group (see matrix-id.ts). */
export function matrixId (g: SqueezedGroup, i: number): string {
  return formatMatrixId({ group: g.group, layer: g.layer, index: i })
}

/** The encrypted backend, once every encrypted matrix is prepared on the miner. */
export async function heBackend (sq: SqueezedModel, session: HeSession, miner: MinerLink, opts: HeBackendOptions = {}): Promise<LinearBackend> {
  const stats = emptyStats()
  const verify = opts.verify ?? true
  const keys = new Map<string, FreivaldsKey>()
  for (const g of sq.groups.values()) {
    if (g.placement !== 'encrypted') continue
    for (let i = 0; i < g.matrices.length; i++) {
      const m = g.matrices[i]
      await miner.prepare(matrixId(g, i), g.plans[i] as MatvecPlan, m.q)
      if (verify) keys.set(matrixId(g, i), freivaldsKey(m.q, m.rows, m.cols, opts.randomWords ?? cryptoWords))
    }
  }
  let jobs = 0
  return {
    name: 'he',
    stats,
    async run (req, signal) {
      signal?.throwIfAborted()
      const g = groupFor(sq, req.group, req.layer)
      const t0 = performance.now()
      let minerMs = 0
      await runQuantizedGroup(g, req, async (grp, i, xq) => {
        if (grp.placement === 'local') return plainIntMatvec(grp.matrices[i], xq)
        const plan = grp.plans[i] as MatvecPlan
        const id = matrixId(grp, i)
        const job = `${id}#${++jobs}`
        opts.onQuantizedInput?.(id, xq)
        const { ciphertexts, epoch } = await session.encrypt(plan, xq.slice())
        stats.bytesUp += ciphertexts.reduce((a, c) => a + c.byteLength, 0)
        const attempts = Math.max(1, opts.maxAttempts ?? 1)
        for (let attempt = 1; ; attempt++) {
          signal?.throwIfAborted()
          const m0 = performance.now()
          // Jobs are idempotent: the same ciphertexts may go to another miner (sent as
          // copies when a retry may need them again: a link may transfer its buffers).
          const { results, minerMs: reported, miner: who, parts } = await miner.compute(id, attempts > 1 ? ciphertexts.map(c => c.slice()) : ciphertexts, job)
          minerMs += reported ?? performance.now() - m0
          stats.bytesDown += results.reduce((a, c) => a + c.byteLength, 0)
          signal?.throwIfAborted()
          const by = who ?? miner.name
          let y: Int32Array | undefined
          let rejection: VerificationError | undefined
          try {
            y = await session.decrypt(plan, results, epoch)
          } catch (err) {
            // A result that cannot be decoded is the miner's fault as much as a wrong one.
            if (!(err instanceof HeWireError || err instanceof HeJobError)) throw err
            rejection = new VerificationError(job, by, 'malformed', err)
          }
          const key = keys.get(id)
          if (y !== undefined && key !== undefined) {
            const v0 = performance.now()
            const ok = freivaldsCheck(key, xq, y)
            stats.verifyMs += performance.now() - v0
            if (ok) stats.verified++
            else rejection = new VerificationError(job, by)
          }
          if (rejection === undefined) return y as Int32Array
          stats.rejected++
          opts.onRejected?.(rejection)
          for (const liar of culprits(grp.matrices[i], plan, xq, y, by, parts)) miner.reject?.(liar, job)
          if (attempt >= attempts) throw rejection
        }
      })
      stats.minerMs += minerMs
      stats.userMs += performance.now() - t0 - minerMs
      stats.groups++
    },
    close () {
      session.close?.()
      miner.close?.()
    }
  }
}
