/**
 * Test fixture for the key-rotation promise (issue 16): a mesh in one process where a
 * cheat — one adversary behind many peer ids — takes every `every`-th job, flips one bit of
 * its result (`--tamper=flip`), and comes back under a fresh identity each time it is
 * dropped. It records which key each of its inputs was encrypted under, so a test can show
 * that it never receives a job under a key after one of its results under that key was
 * rejected. Everything else is the honest link it wraps (real SEAL).
 */
import type { HeSession, MinerLink } from '../core/engine/index.ts'

/** One job as the cheat saw it. */
export interface CheatSighting {
  readonly identity: string
  readonly job: string
  /** The key the inputs were encrypted under (a packed input's key-set id, or the session epoch). */
  readonly key: string
}

/** What the cheat saw and what became of it. */
export interface CheatLog {
  readonly received: CheatSighting[]
  /** Its results the user rejected, with the key of the inputs they answered. */
  readonly rejected: CheatSighting[]
  /** Jobs it received under a key that one of its rejected results had already tested (must stay empty). */
  readonly violations: CheatSighting[]
  /** Rejections of an honest identity (must stay empty: only the cheat lies). */
  readonly honestRejected: string[]
  /** Identities it has used so far. */
  readonly identities: number
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Where an input's key is read from. */
export type KeyOf = (inputs: readonly Uint8Array[]) => string

/**
 * The key-set id a packed input carries (src/core/he/packed-wire.ts: the u64 after the
 * 16-byte header and 8 bytes of width and padding), read from the bytes as sent.
 */
export const packedKeyId: KeyOf = inputs => [...inputs[0].subarray(24, 32)].map(b => b.toString(16).padStart(2, '0')).join('')

/**
 * A session that remembers the epoch each ciphertext it made was encrypted under (a
 * coefficient input carries no key id: its seed is fresh per encryption), and the `KeyOf`
 * that reads it back. The backend hands the session's ciphertexts to the link as they are.
 * Encryptions take 0 to 6 ms, varying, as they do in a worker, so that some are under way
 * when a rejection is seen — the window the rotation barrier must close.
 */
export function epochTagged (session: HeSession): { session: HeSession, keyOf: KeyOf } {
  const epochOf = new WeakMap<Uint8Array, number>()
  let n = 0
  return {
    session: {
      ...session,
      async encrypt (plan, x) {
        const r = await session.encrypt(plan, x)
        await sleep(2 * (n++ % 4))
        for (const c of r.ciphertexts) epochOf.set(c, r.epoch)
        return r
      }
    },
    keyOf: inputs => `epoch ${epochOf.get(inputs[0]) ?? 'unknown'}`
  }
}

/** Options of {@link cheatingMesh}. */
export interface CheatOptions {
  /** Every how many jobs goes to the cheat (default 7). */
  readonly every?: number
  readonly keyOf: KeyOf
  /** The cheat answers this late (ms; default 0: at once, while the jobs sent with it are being encrypted or computed). */
  readonly delayMs?: number
}

/** `honest` with a cheat in the mix (see the file's comment). */
export function cheatingMesh (honest: MinerLink, opts: CheatOptions): MinerLink & { readonly log: CheatLog } {
  const every = opts.every ?? 7
  let identity = 1
  let n = 0
  const log = { received: [] as CheatSighting[], rejected: [] as CheatSighting[], violations: [] as CheatSighting[], honestRejected: [] as string[], identities: 1 }
  const burned = new Set<string>() // keys its rejected results tested
  const lastSeen = new Map<string, CheatSighting>() // job → the cheat's last copy of it
  const caught = new Set<string>() // jobs it lied on and was caught: their retries go to honest miners
  return {
    name: 'cheating-mesh',
    log,
    prepare: async (id, plan, w) => await honest.prepare(id, plan, w),
    ...(honest.setKeys === undefined ? {} : { setKeys: honest.setKeys.bind(honest) }),
    async compute (id, inputs, job, blocks) {
      if (++n % every !== 0 || caught.has(job)) {
        await sleep(n % 2) // a little interleaving among the honest jobs too
        return { ...(await honest.compute(id, inputs, job, blocks)), miner: 'honest' }
      }
      const seen: CheatSighting = { identity: `cheat-${identity}`, job, key: opts.keyOf(inputs) }
      log.received.push(seen)
      if (burned.has(seen.key)) log.violations.push(seen)
      lastSeen.set(job, seen)
      const r = await honest.compute(id, inputs, job, blocks)
      await sleep(opts.delayMs ?? 0)
      const results = r.results.map(c => c.slice())
      results[0][results[0].length - 1] ^= 1 // one bit of a c0 coefficient, as `--tamper=flip`
      return { results, miner: seen.identity }
    },
    reject (miner, job) {
      if (!miner.startsWith('cheat-')) { log.honestRejected.push(miner); return }
      const seen = lastSeen.get(job)
      if (seen === undefined) return
      log.rejected.push(seen)
      burned.add(seen.key)
      caught.add(job)
      // dropped: it comes back at once under a fresh peer id
      if (miner === `cheat-${identity}`) log.identities = ++identity
    },
    close: () => { honest.close?.() }
  }
}
