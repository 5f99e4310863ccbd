/**
 * `he-local`: the encrypted backend with the miner in the same process — the real SEAL
 * user and miner code, no network. For tests, benchmarks and the CLI. The session rotates
 * like the user's HE worker: a fresh user (new secret and Galois keys) per epoch, results
 * of an older epoch refused.
 */
import { createHeMiner, createHeUser, HeKeysRotatedError, paramsKey, type GaloisKeyHandle, type MatvecPlan, type PreparedMatrix, type Seal } from '../he/index.ts'
import { baseMatrixId } from '../squeeze/matrix-id.ts'
import type { MinerLink, HeSession } from './he-backend.ts'

/** An in-process user session and miner over one SEAL module. */
export function localHe (seal: Seal): { session: HeSession, miner: MinerLink } {
  let user = createHeUser(seal)
  let epoch = 0
  const miner = createHeMiner(seal)
  const matrices = new Map<string, PreparedMatrix>()
  // A prefill plan's encoding (≈ v× the one-vector one) is built on first use: only once a
  // prompt needs it.
  const pending = new Map<string, { plan: MatvecPlan, w: Int8Array }>()
  const keySets = new Map<string, GaloisKeyHandle>() // per packed parameter set
  const current = (e: number): void => {
    if (e !== epoch) throw new HeKeysRotatedError(`these results were encrypted under the keys of epoch ${e}; the session's keys are now epoch ${epoch}'s — encrypt again`)
  }
  return {
    session: {
      encrypt: async (plan, x) => ({ ciphertexts: user.encryptInput(plan, x), epoch }),
      encryptBatch: async (plan, xs) => ({ ciphertexts: user.encryptBatch(plan, xs), epoch }),
      async decrypt (plan, results, e) {
        current(e)
        return user.decryptResults(plan, results)
      },
      async decryptBatch (plan, results, e) {
        current(e)
        return user.decryptBatch(plan, results)
      },
      galoisKeys: async (plan) => user.galoisKeys(plan),
      async rotate () {
        user.dispose()
        user = createHeUser(seal)
        epoch++
      },
      close: () => { user.dispose() }
    },
    miner: {
      name: 'local',
      async prepare (id, plan, w) {
        matrices.get(id)?.delete()
        matrices.delete(id)
        if (baseMatrixId(id) === id) matrices.set(id, miner.prepare(plan, w))
        else pending.set(id, { plan, w })
      },
      async setKeys (plan, bytes) {
        const key = paramsKey(plan.params)
        keySets.get(key)?.delete()
        keySets.set(key, miner.loadGaloisKeys(bytes, plan))
      },
      async compute (id, inputs) {
        const p = pending.get(id)
        if (p !== undefined) {
          matrices.set(id, miner.prepare(p.plan, p.w))
          pending.delete(id)
        }
        const m = matrices.get(id)
        if (m === undefined) throw new RangeError(`matrix ${id} is not prepared`)
        const t0 = performance.now()
        const results = miner.compute(m, inputs, m.plan.scheme === 'packed' ? keySets.get(paramsKey(m.plan.params)) : undefined)
        return { results, minerMs: performance.now() - t0 }
      },
      close: () => { miner.dispose() }
    }
  }
}
