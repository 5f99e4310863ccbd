import { describe, expect, it } from 'vitest'
import { parseCheckpoint } from '../model/checkpoint.ts'
import { quantizeModel, quantizeModelAsync } from '../model/w8a8.ts'
import { stories260K, syntheticCheckpoint } from '../../test/fixtures.ts'
import { NETWORKS } from '../he/planner.ts'
import { NAIVE, predictToken, squeezedMatrix, squeezeModel } from './squeeze.ts'
import { planToJson } from './plan-json.ts'
import { SqueezeOptionsError } from './errors.ts'
import { tokenRounds } from './rounds.ts'

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

  it('predicts both round layouts per token and picks by network: fused on a high-latency link, unfused on loopback', () => {
    const wan = squeezeModel(ckpt, { network: NETWORKS.wan, rounds: 'auto' })
    expect(wan.rounds.chosen).toBe('fused')
    expect(wan.layout).toEqual({ rounds: 'fused', classifierInLastRound: false })
    expect(wan.rounds.reason).toMatch(/^fused is predicted faster on wan/)
    const { unfused, fused } = wan.rounds.predicted
    expect([unfused.roundTrips, fused?.roundTrips]).toEqual([20, 11])
    expect(fused?.minerMs).toBeGreaterThan(unfused.minerMs) // ~2× the miner's work …
    expect(fused?.totalMs).toBeLessThan(unfused.totalMs) // … for 9 fewer 60 ms round trips
    expect(predictToken(wan)).toEqual(fused)
    const loop = squeezeModel(ckpt, { network: NETWORKS.loopback, rounds: 'auto' })
    expect(loop.rounds.chosen).toBe('unfused')
    expect(loop.rounds.predicted.fused?.totalMs).toBeGreaterThan(loop.rounds.predicted.unfused.totalMs)
    // the default is the planner's choice; unfused can still be asked for, and says what auto would pick
    const def = squeezeModel(ckpt, { network: NETWORKS.wan })
    expect([def.rounds.mode, def.rounds.chosen]).toEqual(['auto', 'fused'])
    const asked = squeezeModel(ckpt, { network: NETWORKS.wan, rounds: 'unfused' })
    expect([asked.rounds.mode, asked.rounds.chosen, asked.rounds.preferred]).toEqual(['unfused', 'unfused', 'fused'])
    expect(asked.rounds.reason).toMatch(/^unfused asked for \(auto would pick fused is predicted faster/)
    expect([...squeezeModel(ckpt, { network: NETWORKS.lan }).groups.keys()]).toEqual([...squeezeModel(ckpt, { network: NETWORKS.lan, rounds: 'unfused' }).groups.keys()])
  })

  it('the fused layout holds exactly the groups its rounds use, in round order', () => {
    const sq = squeezeModel(ckpt, { rounds: 'fused' })
    const inRounds = tokenRounds(ckpt.config, sq.layout).flat().map(s => `${s.group}:${s.layer}`)
    expect([...sq.groups.keys()]).toEqual(inRounds)
    expect(inRounds.slice(0, 5)).toEqual(['qkv:0', 'o-up:0', 'up:0', 'down-qkv:0', 'qkv:1'])
    expect(inRounds.slice(-3)).toEqual(['up:4', 'down:4', 'cls:-1'])
    expect(sq.groups.get('o-up:1')?.matrices[0].rows).toBe(64 + 2 * 172)
    expect(sq.groups.get('down-qkv:1')?.matrices[0].rows).toBe(64 + 128)
  })

  it('round fusion needs folded gains: forced, a typed error; auto, unfused and says why', () => {
    expect(() => squeezeModel(ckpt, { fold: false, rounds: 'fused' })).toThrow(SqueezeOptionsError)
    const auto = squeezeModel(ckpt, { fold: false, rounds: 'auto', network: NETWORKS.wan })
    expect(auto.rounds.chosen).toBe('unfused')
    expect(auto.rounds.predicted.fused).toBeUndefined()
    expect(auto.rounds.reason).toMatch(/needs the RMSNorm gains folded/)
  })

  it('resolves a job\'s matrix id against one squeeze, in either layout (a miner serves both)', () => {
    const fused = squeezeModel(ckpt, { rounds: 'fused' })
    const plain = squeezeModel(ckpt)
    expect(squeezedMatrix(fused, 'o-up:3:0')).toBe(fused.groups.get('o-up:3')?.matrices[0])
    expect(squeezedMatrix(fused, 'qkv:0:0')?.rows).toBe(128)
    expect(squeezedMatrix(fused, 'o:3:0')?.rows).toBe(64) // from the layout not built
    expect(squeezedMatrix(plain, 'o:3:0')).toBe(plain.groups.get('o:3')?.matrices[0])
    expect(squeezedMatrix(plain, 'o-up:3:0')?.q).toEqual(fused.groups.get('o-up:3')?.matrices[0].q)
    expect(plain.otherLayout?.layout.rounds).toBe('fused')
    expect(squeezeModel(ckpt, { fold: false }).otherLayout).toBeUndefined()
    expect(squeezedMatrix(fused, 'o-up:3:1')).toBeUndefined()
    expect(squeezedMatrix(fused, 'nonsense')).toBeUndefined()
  })

  it('writes both layouts\' predicted cost and the choice into the plan JSON', () => {
    const json = planToJson(ckpt.config, squeezeModel(ckpt, { network: NETWORKS.wan, rounds: 'auto' })) as { groups: unknown[], rounds: { layout: string, reason: string, predictedPerToken: { unfused: { roundTrips: number }, fused: { roundTrips: number, totalMs: number } } }, predictedPerToken: { totalMs: number, roundTrips: number } }
    expect(json.rounds.layout).toBe('fused')
    expect(json.rounds.predictedPerToken.unfused.roundTrips).toBe(20)
    expect(json.rounds.predictedPerToken.fused.roundTrips).toBe(11)
    expect(json.predictedPerToken.roundTrips).toBe(11)
    expect(json.predictedPerToken.totalMs).toBeCloseTo(json.rounds.predictedPerToken.fused.totalMs, 2)
    expect(json.groups).toHaveLength(1 + 2 * 5 + 2 * 4 + 1 + 1)
  })
})

describe('a squeeze from a model quantized with the event loop running (a donor\'s tab)', () => {
  it('quantizeModelAsync yields between slices and gives quantizeModel\'s bytes; the squeeze from it is the squeeze; another fold is refused', async () => {
    const ckpt = parseCheckpoint(stories260K().model)
    for (const foldNorms of [true, false]) {
      let ticks = 0
      const timer = setInterval(() => { ticks++ }, 0)
      let quantized: Awaited<ReturnType<typeof quantizeModelAsync>>
      try {
        quantized = await quantizeModelAsync(ckpt, { foldNorms }, 4096)
      } finally {
        clearInterval(timer)
      }
      expect(ticks).toBeGreaterThan(2)
      const sync = quantizeModel(ckpt, { foldNorms })
      expect([...quantized.groups]).toEqual([...sync.groups])
      const opts = { scheme: 'coeff', fold: foldNorms, rounds: 'unfused' } as const
      const a = squeezeModel(ckpt, { ...opts, quantized })
      const b = squeezeModel(ckpt, opts)
      expect([...a.groups].map(([k, g]) => [k, g.matrices.map(m => m.q), g.plans.map(p => p?.split)])).toEqual([...b.groups].map(([k, g]) => [k, g.matrices.map(m => m.q), g.plans.map(p => p?.split)]))
      expect(() => squeezeModel(ckpt, { ...opts, fold: !foldNorms, quantized })).toThrow(SqueezeOptionsError)
    }
  })
})
