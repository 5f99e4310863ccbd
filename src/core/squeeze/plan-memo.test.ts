/**
 * The plan memo: a second squeeze with a filled memo makes the same plans without searching;
 * what does not validate or fit is searched for again; kept text that is not a memo is none.
 */
import { describe, expect, it } from 'vitest'
import { NETWORKS, planMatvec, planToData, type MatvecPlan } from '../he/index.ts'
import { parseCheckpoint } from '../model/index.ts'
import { stories260K } from '../../test/fixtures.ts'
import { MAX_PLAN_MEMO_CHARS, parsePlanMemo, planMemoJson, planMemoKey, squeezeModel, type PlanMemo, type SqueezedModel } from './index.ts'

const ckpt = parseCheckpoint(stories260K().model)
const data = (p: MatvecPlan | undefined): unknown => p === undefined ? undefined : planToData(p)
const plans = (sq: SqueezedModel): unknown => [...sq.groups].map(([k, g]) => [k, g.plans.map(data), g.prefillPlans?.map(data), g.prefillFrom, g.predicted])

describe('the plan memo', () => {
  it('a squeeze fills it; the next squeeze with it (kept as text) makes the same plans and searches nothing', () => {
    for (const network of [NETWORKS.wan, NETWORKS.lan]) {
      const memo: PlanMemo = new Map()
      const first = squeezeModel(ckpt, { network, memo })
      const encrypted = [...first.groups.values()].filter(g => g.placement === 'encrypted')
      // one entry per matrix and one per prefill plan (null where there is none)
      expect(memo.size).toBe(2 * encrypted.reduce((a, g) => a + g.matrices.length, 0))
      const kept = parsePlanMemo(planMemoJson(memo))
      expect([...kept]).toEqual([...memo])
      const again = squeezeModel(ckpt, { network, memo: kept })
      expect(plans(again)).toEqual(plans(first))
      expect([...kept]).toEqual([...memo]) // nothing new was searched
    }
  })

  it('is what the squeeze uses: a remembered plan is taken as it is; one that does not validate or fit is searched for again', () => {
    const memo: PlanMemo = new Map()
    const sq = squeezeModel(ckpt, { network: NETWORKS.wan, memo })
    const [key, entry] = [...memo].find(([k, d]) => !k.endsWith('+prefill') && d?.scheme === 'packed') ?? []
    expect(entry).toBeDefined()
    const k = key as string
    const g = sq.groups.get(k.slice(0, k.indexOf('#'))) as NonNullable<ReturnType<typeof sq.groups.get>>
    const index = Number(k.slice(k.indexOf('#') + 1))
    const m = g.matrices[index]
    // a valid other plan (coefficient-only) for the same matrix is used
    const coeff = planMatvec(m.rows, m.cols, { scheme: 'coeff', network: NETWORKS.wan }).plan
    const planted = squeezeModel(ckpt, { network: NETWORKS.wan, memo: new Map([...memo, [k, planToData(coeff)]]) })
    expect(data(planted.groups.get(k.slice(0, k.indexOf('#')))?.plans[index])).toEqual(planToData(coeff))
    // an unknown preset, a plan of another shape, a remembered "none" for a matrix: searched again
    for (const bad of [{ ...entry, preset: 'n12345' }, { ...entry, dOut: (entry?.dOut ?? 0) + 1 }, null]) {
      const redone = squeezeModel(ckpt, { network: NETWORKS.wan, memo: new Map([...memo, [k, bad as never]]) })
      expect(plans(redone)).toEqual(plans(sq))
    }
  })

  it('is kept by model and options; text that is not a memo of this version is an empty memo', () => {
    const a = planMemoKey('ab'.repeat(32), { network: NETWORKS.wan })
    expect(planMemoKey('ab'.repeat(32), { network: NETWORKS.wan })).toBe(a)
    expect(planMemoKey('cd'.repeat(32), { network: NETWORKS.wan })).not.toBe(a)
    expect(planMemoKey('ab'.repeat(32), { network: NETWORKS.lan })).not.toBe(a)
    expect(planMemoKey('ab'.repeat(32), { network: NETWORKS.wan, rounds: 'fused' })).not.toBe(a)
    expect(planMemoKey('ab'.repeat(32), { network: NETWORKS.wan, prefill: false })).not.toBe(a)
    for (const text of [undefined, '', 'not json', 'null', '[]', '{"v":0,"entries":[]}', '{"v":1,"entries":{}}', `{"v":1,"entries":[["k",1],[2,null],["x"]]}`, `"${'x'.repeat(MAX_PLAN_MEMO_CHARS)}"`]) {
      expect(parsePlanMemo(text).size).toBe(0)
    }
    expect([...parsePlanMemo('{"v":1,"entries":[["k",null],["j",1]]}')]).toEqual([['k', null]])
  })
})
