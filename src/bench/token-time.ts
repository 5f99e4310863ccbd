/**
 * Where a private answer's token time went, from its receipt's `time` (`bench mesh`'s
 * `timePerToken` and `heLocalTimePerToken`).
 */
import type { AnswerReceipt } from '../app/types.ts'

/** A token's time by where it went, ms (mesh-bench.ts, `MeshBenchRun.timePerToken`). */
export interface TokenTime {
  /** The user's HE worker encrypting and decrypting (the hop to it included), and Freivalds. */
  readonly encrypt: number
  readonly decrypt: number
  readonly verify: number
  /** The jobs' wall time: from handing the ciphertexts to the miners to having the results. */
  readonly jobs: number
  /** Of `jobs`, the miners' own compute (their worker pools' time, the hop to them included), when the miners told it. */
  readonly minerCompute?: number
  /** What no job covers: the forward pass's own arithmetic, sampling, scheduling (floored at 0). */
  readonly rest: number
}

/**
 * A receipt's time per token by where it went, or undefined when it has no breakdown.
 * `minerComputeMs`: the miners' compute for the receipt's jobs, when known.
 */
export function tokenTime (r: AnswerReceipt, minerComputeMs?: number): TokenTime | undefined {
  const t = r.time
  if (t === undefined || r.tokens === 0) return undefined
  const per = (ms: number): number => ms / r.tokens
  return {
    encrypt: per(t.encryptMs),
    decrypt: per(t.decryptMs),
    verify: per(t.verifyMs),
    jobs: per(t.jobsMs),
    ...(minerComputeMs === undefined ? {} : { minerCompute: per(minerComputeMs) }),
    rest: per(Math.max(0, r.ms - t.encryptMs - t.decryptMs - t.verifyMs - t.jobsMs))
  }
}
