/**
 * Batch T in the coefficient scheme: T independent products in one job, the same plan
 * shape as the packed scheme's (inputs vector-major, results block-major then vector).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prng } from '../../test/fixtures.ts'
import { matvecInt8 } from '../model/w8a8.ts'
import { HeJobError } from './errors.ts'
import { createHeMiner, type HeMiner } from './miner.ts'
import { RING_PRESETS } from './params.ts'
import { makePlan, planFromData, planToData } from './plan.ts'
import { loadSeal, type Seal } from './seal.ts'
import { createHeUser, type HeUser } from './user.ts'
import { randomInt8 } from '../../test/fixtures.ts'

let seal: Seal
let user: HeUser
let miner: HeMiner
beforeAll(async () => {
  seal = await loadSeal()
  user = createHeUser(seal)
  miner = createHeMiner(seal)
})
afterAll(() => {
  user.dispose()
  miner.dispose()
})

const rand = prng(31)
const [dOut, dIn] = [70, 45]
const w = randomInt8(dOut * dIn, rand)
const reference = (x: Int8Array): Int32Array => { const y = new Int32Array(dOut); matvecInt8(w, dOut, dIn, x, y); return y }

describe('coefficient plans with a batch', () => {
  for (const T of [1, 3, 5]) {
    it(`T = ${T}: one job equals T separate products`, () => {
      const plan = makePlan(dOut, dIn, RING_PRESETS.testN256, 16, T)
      expect(planFromData(planToData(plan))).toEqual(plan)
      const xs = Array.from({ length: T }, () => randomInt8(dIn, rand, 'extreme'))
      const up = user.encryptBatch(plan, xs)
      expect(up).toHaveLength(T * plan.split.chunks)
      const m = miner.prepare(plan, w)
      const down = miner.compute(m, up)
      expect(down).toHaveLength(T * plan.split.blocks)
      expect(user.decryptBatch(plan, down)).toEqual(xs.map(reference))
      // Block ranges, concatenated in block order, are the same results.
      const ranges: Array<[number, number]> = [[0, 2], [2, plan.split.blocks]]
      const parts = ranges.flatMap(r => miner.compute(m, up, undefined, r))
      expect(user.decryptBatch(plan, parts)).toEqual(xs.map(reference))
      m.delete()
    })
  }

  it('batch forms are required for T > 1, and counts are checked', () => {
    const plan = makePlan(dOut, dIn, RING_PRESETS.testN256, 16, 2)
    expect(() => user.encryptInput(plan, randomInt8(dIn, rand))).toThrow(/use encryptBatch/)
    expect(() => user.encryptBatch(plan, [randomInt8(dIn, rand)])).toThrow(HeJobError)
    const m = miner.prepare(plan, w)
    expect(() => miner.compute(m, user.encryptBatch(plan, [randomInt8(dIn, rand), randomInt8(dIn, rand)]).slice(1))).toThrow(/2 vectors ×/)
    m.delete()
    expect(() => makePlan(dOut, dIn, RING_PRESETS.testN256, 16, 0)).toThrow(/batch 0/)
  })
})
