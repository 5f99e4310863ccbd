/**
 * `he-local`: the encrypted backend with the miner in the same process — the real SEAL
 * user and miner code, no network. For tests, benchmarks and the CLI.
 */
import { createHeMiner, createHeUser, paramsKey, type GaloisKeyHandle, type PreparedMatrix, type Seal } from '../he/index.ts'
import type { MinerLink, HeSession } from './he-backend.ts'

/** An in-process user session and miner over one SEAL module. */
export function localHe (seal: Seal): { session: HeSession, miner: MinerLink } {
  const user = createHeUser(seal)
  const miner = createHeMiner(seal)
  const matrices = new Map<string, PreparedMatrix>()
  const keySets = new Map<string, GaloisKeyHandle>() // per packed parameter set
  return {
    session: {
      encrypt: async (plan, x) => ({ ciphertexts: user.encryptInput(plan, x), epoch: 0 }),
      decrypt: async (plan, results) => user.decryptResults(plan, results),
      galoisKeys: async (plan) => user.galoisKeys(plan),
      close: () => { user.dispose() }
    },
    miner: {
      name: 'local',
      async prepare (id, plan, w) {
        matrices.get(id)?.delete()
        matrices.set(id, miner.prepare(plan, w))
      },
      async setKeys (plan, bytes) {
        const key = paramsKey(plan.params)
        keySets.get(key)?.delete()
        keySets.set(key, miner.loadGaloisKeys(bytes, plan))
      },
      async compute (id, inputs) {
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
