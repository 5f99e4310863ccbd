/**
 * The Galois key sets a miner holds for its users' sessions (packed jobs need them): kept
 * as sent, loaded into the compute on a session's first packed job for a parameter set,
 * bounded by sessions (least recently used evicted first) and by sets per session.
 */
import { paramsKey, type MatvecPlan } from '../core/he/index.ts'
import { ERROR_CODES } from '../core/protocol/index.ts'
import { CerberusError } from '../core/errors.ts'

/**
 * Bounds of the Galois keys held, and why: a key set takes ~1.6 MB of SEAL heap in every
 * worker once loaded (671 KB on the wire). 8 sessions × 4 sets × 2 workers ≈ 100 MB at
 * most; the least recently used session is evicted first, and its user's next packed job
 * is answered UNKNOWN_KEYS, so she sends her keys again — nothing is lost.
 */
export const MINER_KEYS = Object.freeze({
  maxSessions: 8,
  maxSetsPerSession: 4
})

/** A job the miner refuses with a code the user acts on (UNKNOWN_KEYS: send the keys again). */
export class JobRefusal extends CerberusError {}

/** What the store loads keys into (the miner's compute). */
export interface KeyLoader {
  /** Validate and load a key set for `plan`'s parameters. @throws for keys that are not valid for them. */
  loadKeys?: (keyId: string, plan: MatvecPlan, keys: Uint8Array) => Promise<unknown>
  releaseKeys?: (keyId: string) => Promise<void>
}

/** A miner's key sets by session. */
export interface SessionKeyStore {
  /** A session's key set arrived: keep it (a set for the same parameters replaces the old one). */
  take: (session: string, keys: Uint8Array) => void
  /**
   * The compute's key id for a packed job of `session`, loading its key set on first use.
   * @throws {JobRefusal} UNKNOWN_KEYS (none held: never sent, or evicted), BAD_KEYS (none valid), BAD_REQUEST (no packed compute).
   */
  keyIdFor: (session: string, plan: MatvecPlan) => Promise<string>
}

/** A session's key sets: the bytes as sent, and which parameter sets they are loaded for. */
interface SessionKeys {
  readonly sets: Uint8Array[]
  /** paramsKey → the compute's key id. */
  readonly loaded: Map<string, string>
  /** Key sets that failed to load for a parameter set (paramsKey → set indexes). */
  readonly refused: Map<string, Set<number>>
}

/** A store of at most `maxSessions` sessions' keys (default {@link MINER_KEYS}.maxSessions); `counted` hears of each set taken and each session evicted. */
export function sessionKeyStore (compute: KeyLoader, opts: { maxSessions?: number, counted?: (e: 'taken' | 'evicted') => void } = {}): SessionKeyStore {
  const sessionKeys = new Map<string, SessionKeys>() // in order of last use (the first is evicted)
  let keySeq = 0
  const release = (k: SessionKeys): void => {
    for (const id of k.loaded.values()) void compute.releaseKeys?.(id).catch(() => {})
    k.loaded.clear()
  }
  return {
    take (session, keys) {
      opts.counted?.('taken')
      const k: SessionKeys = sessionKeys.get(session) ?? { sets: [], loaded: new Map(), refused: new Map() }
      sessionKeys.delete(session)
      const fp = (b: Uint8Array): string => [...b.subarray(8, 16)].join(',') // the header's parameter fingerprint
      const same = k.sets.findIndex(b => fp(b) === fp(keys))
      if (same >= 0) k.sets.splice(same, 1)
      k.sets.push(keys)
      if (k.sets.length > MINER_KEYS.maxSetsPerSession) k.sets.shift()
      release(k)
      k.refused.clear()
      sessionKeys.set(session, k)
      while (sessionKeys.size > (opts.maxSessions ?? MINER_KEYS.maxSessions)) {
        const [oldest, ok] = sessionKeys.entries().next().value as [string, SessionKeys]
        opts.counted?.('evicted')
        sessionKeys.delete(oldest)
        release(ok)
      }
    },
    async keyIdFor (session, plan) {
      const k = sessionKeys.get(session)
      if (k === undefined) throw new JobRefusal(ERROR_CODES.UNKNOWN_KEYS, 'this miner holds no Galois keys for your session (never sent, or evicted): send them again')
      sessionKeys.delete(session)
      sessionKeys.set(session, k) // most recently used
      const pk = paramsKey(plan.params)
      const have = k.loaded.get(pk)
      if (have !== undefined) return have
      if (compute.loadKeys === undefined) throw new JobRefusal('BAD_REQUEST', 'this miner cannot compute packed jobs')
      const refused = k.refused.get(pk) ?? new Set<number>()
      k.refused.set(pk, refused)
      let last: unknown
      for (let i = 0; i < k.sets.length; i++) {
        if (refused.has(i)) continue
        const id = `${session}|${++keySeq}`
        try {
          await compute.loadKeys(id, plan, k.sets[i])
          k.loaded.set(pk, id)
          return id
        } catch (err) {
          refused.add(i) // not this parameter set's keys (or not valid keys at all)
          last = err
        }
      }
      throw new JobRefusal(ERROR_CODES.BAD_KEYS, `none of your Galois key sets is valid for ${pk}${last === undefined ? '' : `: ${(last as Error).message}`}`)
    }
  }
}
