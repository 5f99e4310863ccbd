/**
 * Job sizes are constant per job type (issue 16): for every encrypted matrix of stories260K,
 * coefficient and packed, the request frame a miner receives and the result it returns have
 * one size whatever the input values (zeros, extremes, random) — real SEAL, frames encoded
 * as on the wire. And the observer's features see what they should.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localHe, matrixId } from '../core/engine/index.ts'
import { loadSeal, NETWORKS, planToData, type MatvecPlan, type Seal } from '../core/he/index.ts'
import { parseCheckpoint } from '../core/model/index.ts'
import { encodeMessage, frame } from '../core/protocol/index.ts'
import { squeezeModel } from '../core/squeeze/index.ts'
import { prng, randomInt8, stories260K } from '../test/fixtures.ts'
import { featureNames, minerFeatures, observedLink, type Observation } from './privacy-observer.ts'

const ckpt = parseCheckpoint(stories260K().model)
let seal: Seal
beforeAll(async () => { seal = await loadSeal() })
const closers: Array<() => void> = []
afterAll(() => { for (const c of closers) c() })

describe('what a miner observes', () => {
  for (const scheme of ['coeff', 'packed'] as const) {
    it(`${scheme}: every job of a matrix is one request size and one result size, whatever the values`, async () => {
      const sq = squeezeModel(ckpt, { network: NETWORKS.lan, rounds: 'unfused', scheme })
      const { session, miner } = localHe(seal)
      closers.push(() => { session.close?.(); miner.close?.() })
      const link = observedLink(miner, 'sizes')
      const rand = prng(5)
      let matrices = 0
      for (const g of sq.groups.values()) {
        if (g.placement !== 'encrypted') continue
        for (let i = 0; i < g.matrices.length; i++) {
          const plan = g.plans[i] as MatvecPlan
          const id = matrixId(g, i)
          if (plan.scheme === 'packed') await link.setKeys?.(plan, await (session.galoisKeys as NonNullable<typeof session.galoisKeys>)(plan))
          await link.prepare(id, plan, g.matrices[i].q)
          const inputs = [new Int8Array(plan.dIn), new Int8Array(plan.dIn).fill(127), new Int8Array(plan.dIn).fill(-128), randomInt8(plan.dIn, rand), randomInt8(plan.dIn, rand)]
          const results = new Set<number>()
          const requests = new Set<number>()
          for (const x of inputs) {
            const enc = await session.encrypt(plan, x)
            // the same wire job id for each, so that only the ciphertexts could differ
            requests.add(frame(encodeMessage({ type: 'request', session: 's', job: 'j', matrix: id, plan: planToData(plan), ciphertexts: enc.ciphertexts })).byteLength)
            const r = await link.compute(id, enc.ciphertexts, 'j')
            results.add(frame(encodeMessage({ type: 'result', job: 'j', ciphertexts: r.results })).byteLength)
          }
          expect(requests.size, id).toBe(1)
          expect(results.size, id).toBe(1)
          matrices++
        }
      }
      expect(matrices).toBeGreaterThanOrEqual(15)
      // what the observer recorded differs only by the digits of the link's own sequence
      // number in the wire id (mesh-link's "@n": the count of jobs this miner received, which
      // it knows): at most one byte here, where the count crosses one power of ten
      const byMatrix = new Map<string, number[]>()
      for (const o of link.take()) if (o.kind === 'request') byMatrix.set(o.matrix, [...(byMatrix.get(o.matrix) ?? []), o.bytes])
      for (const [id, sizes] of byMatrix) expect(Math.max(...sizes) - Math.min(...sizes), id).toBeLessThanOrEqual(1)
    })
  }

  it('features: counts, sizes, gaps and the gap before each kind', () => {
    const obs: Observation[] = [
      { t: 0, bytes: 10, kind: 'keys', matrix: '' },
      { t: 1, bytes: 100, kind: 'request', matrix: 'qkv:0:0' },
      { t: 3, bytes: 100, kind: 'request', matrix: 'o:0:0' },
      { t: 4, bytes: 300, kind: 'request', matrix: 'qkv:1:0' },
      { t: 9, bytes: 300, kind: 'request', matrix: 'o:1:0' }
    ]
    const names = featureNames(['qkv', 'o'])
    const f = minerFeatures(obs, ['qkv', 'o'])
    const get = (n: string): number => f[names.indexOf(n)]
    expect(f.length).toBe(names.length)
    expect(get('requests')).toBe(4)
    expect(get('requestBytes')).toBe(800)
    expect(get('keyFrames')).toBe(1)
    expect(get('sizeMean')).toBe(200)
    expect(get('sizeStd')).toBe(100)
    expect(get('distinctSizes')).toBe(2)
    expect(get('durationMs')).toBe(8)
    expect(get('gapMean')).toBeCloseTo(8 / 3)
    expect(get('gapMax')).toBe(5)
    expect(get('gapBefore:o')).toBe(3.5) // gaps 2 and 5
    expect(get('gapBefore:qkv')).toBe(1)
  })
})
