import { describe, expect, it } from 'vitest'
import { parseCheckpoint } from '../model/checkpoint.ts'
import { stories260K, syntheticCheckpoint } from '../../test/fixtures.ts'
import { NETWORKS } from '../he/planner.ts'
import { NAIVE, predictToken, squeezeModel } from './squeeze.ts'
import { planToJson } from './plan-json.ts'

const ckpt = parseCheckpoint(stories260K().model)

describe('Cerberus Squeezing', () => {
  it('fuses q|k|v and w1|w3 into one matrix each, rows stacked in output order', () => {
    const sq = squeezeModel(ckpt)
    const qkv = sq.groups.get('qkv:2')
    expect(qkv?.matrices.map(m => [m.rows, m.cols])).toEqual([[64 + 32 + 32, 64]])
    expect(qkv?.outputRows).toEqual([[64, 32, 32]])
    expect(sq.groups.get('up:0')?.matrices.map(m => [m.rows, m.cols])).toEqual([[344, 64]])
    const unfused = squeezeModel(ckpt, { fuse: false })
    expect(unfused.groups.get('qkv:2')?.matrices.map(m => m.rows)).toEqual([64, 32, 32])
  })

  it('folds RMSNorm gains (unit gains left in the forward pass), or not', () => {
    expect(Array.from(new Set(squeezeModel(ckpt).params.rmsFfn))).toEqual([1])
    expect(squeezeModel(ckpt, { fold: false }).params.rmsFfn).toBe(ckpt.weights.rmsFfn)
  })

  it('runs the tied classifier locally and says why; every block matrix is encrypted', () => {
    const sq = squeezeModel(ckpt, { network: NETWORKS.lan })
    const cls = sq.groups.get('cls:-1')
    expect(cls?.placement).toBe('local')
    expect(cls?.reason).toMatch(/tied to the token embedding the user already holds/)
    expect(cls?.plans).toEqual([undefined])
    for (const g of sq.groups.values()) if (g.group !== 'cls') expect(g.placement).toBe('encrypted')
    expect(cls?.alternative.totalMs).toBeGreaterThan(cls?.predicted.totalMs ?? Infinity)
  })

  it('encrypts a separate (untied) classifier: the user does not hold its weights', () => {
    const untied = parseCheckpoint(syntheticCheckpoint({ dim: 32, hiddenDim: 48, nLayers: 1, nHeads: 4, nKvHeads: 4, vocabSize: 300, seqLen: 16, shared: false }))
    const g = squeezeModel(untied).groups.get('cls:-1')
    expect(g?.placement).toBe('encrypted')
    expect(g?.reason).toMatch(/weights live only on the miners/)
  })

  it('the naive plan encrypts everything with one fixed packing and is predicted slower', () => {
    const naive = squeezeModel(ckpt, { ...NAIVE, network: NETWORKS.lan })
    const full = squeezeModel(ckpt, { network: NETWORKS.lan })
    expect([...naive.groups.values()].every(g => g.placement === 'encrypted')).toBe(true)
    expect([...naive.groups.values()].every(g => g.plans.every(p => p?.split.nI === Math.min(32, p?.dIn ?? 0)))).toBe(true)
    expect(predictToken(naive).totalMs).toBeGreaterThan(predictToken(full).totalMs)
  })

  it('plans for the network: wan trades compute for bytes', () => {
    const lan = predictToken(squeezeModel(ckpt, { network: NETWORKS.lan }))
    const loop = predictToken(squeezeModel(ckpt, { network: NETWORKS.loopback }))
    expect(lan.bytesUp + lan.bytesDown).toBeLessThanOrEqual(loop.bytesUp + loop.bytesDown)
  })

  it('writes the plan as JSON with predicted costs per group', () => {
    const json = planToJson(ckpt.config, squeezeModel(ckpt, { network: NETWORKS.wan })) as { groups: Array<{ group: string, placement: string, matrices: Array<{ he: { polyDegree: number } | null }> }>, predictedPerToken: { totalMs: number } }
    expect(json.groups).toHaveLength(21)
    expect(json.groups[0]).toMatchObject({ group: 'qkv', placement: 'encrypted' })
    expect(json.groups[0].matrices[0].he?.polyDegree).toBe(2048)
    expect(json.groups[20].matrices[0].he).toBeNull()
    expect(json.predictedPerToken.totalMs).toBeGreaterThan(0)
  })
})
