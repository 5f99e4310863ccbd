/**
 * A miner in this process or its own workers, as the engine's {@link MinerLink}: the
 * he-local baseline of the benchmarks (user and miner workers in one tab), the gateway's
 * embedded miner, and tools. Its compute is any miner service's (a worker pool); the
 * prepared plans and the user's Galois key sets (loaded into the compute) are kept here.
 */
import type { MinerLink } from '../core/engine/index.ts'
import { paramsKey, type MatvecPlan } from '../core/he/index.ts'
import { CerberusError } from '../core/errors.ts'
import type { MinerCompute } from '../net/miner-service.ts'
import { baseMatrixId } from '../core/squeeze/index.ts'

/** A MinerLink that computes with `compute` directly (no network). */
export function localMinerLink (compute: MinerCompute, name = 'local'): MinerLink {
  const plans = new Map<string, MatvecPlan>()
  // A prefill plan's encoding (≈ v× the one-vector one) is built on first use: only once a
  // prompt needs it.
  const pending = new Map<string, { plan: MatvecPlan, w: Int8Array }>()
  const ready = new Map<string, Promise<unknown>>()
  const prepared = async (id: string): Promise<void> => {
    let r = ready.get(id)
    const p = pending.get(id)
    if (r === undefined && p !== undefined) {
      r = compute.prepare(id, p.plan, p.w)
      ready.set(id, r)
      r.then(() => { pending.delete(id) }, () => { ready.delete(id) })
    }
    await r
  }
  const keyIds = new Map<string, string>() // paramsKey → the compute's key id
  return {
    name,
    async prepare (id, plan, w) {
      plans.set(id, plan)
      ready.delete(id)
      pending.set(id, { plan, w })
      if (baseMatrixId(id) === id) await prepared(id)
    },
    async setKeys (plan, keys) {
      if (compute.loadKeys === undefined) throw new CerberusError('BAD_REQUEST', `the ${name} miner cannot compute packed jobs`)
      const keyId = `${name}|${paramsKey(plan.params)}`
      await compute.loadKeys(keyId, plan, keys)
      keyIds.set(paramsKey(plan.params), keyId)
    },
    async compute (id, inputs) {
      const plan = plans.get(id)
      const keyId = plan?.scheme === 'packed' ? keyIds.get(paramsKey(plan.params)) : undefined
      await prepared(id)
      const t0 = performance.now()
      const bytesSent = inputs.reduce((a, c) => a + c.byteLength, 0)
      const results = await compute.compute(id, inputs, keyId === undefined ? undefined : { keyId })
      return { results, minerMs: performance.now() - t0, miner: name, bytesSent }
    }
  }
}
