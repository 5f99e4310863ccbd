/**
 * A squeezed model across a thread boundary: what arrives plans, prints and predicts what
 * was sent; the matrices travel without a copy; a message for another model is refused.
 */
import { describe, expect, it } from 'vitest'
import { squeezedEngine } from '../engine/index.ts'
import { NETWORKS, planToData, type MatvecPlan } from '../he/index.ts'
import { createRng, createSampler, generate, parseCheckpoint, parseTokenizer, type Checkpoint } from '../model/index.ts'
import { syntheticModel } from '../model/synthetic.ts'
import { stories260K } from '../../test/fixtures.ts'
import { squeezedFromTransfer, squeezedToTransfer, squeezeModel, type SqueezedModel, type SqueezedTransfer } from './index.ts'

const files = stories260K()
const ckpt = parseCheckpoint(files.model)
const tok = parseTokenizer(files.tokenizer, ckpt.config.vocabSize)

function tokens (sq: SqueezedModel, seed: number): number[] {
  const sampler = createSampler({ temperature: seed === 0 ? 0 : 1, topp: 0.9 }, createRng(seed === 0 ? 1 : seed))
  return [...generate(squeezedEngine(sq), tok, sampler, { prompt: 'Once upon a time', steps: 40 })].map(t => t.token)
}

/** Everything but the matrices' bytes, plans as data: what must arrive unchanged. */
function shape (sq: SqueezedModel): unknown {
  const data = (p: MatvecPlan | undefined): unknown => p === undefined ? undefined : planToData(p)
  return {
    layout: sq.layout,
    rounds: sq.rounds,
    options: sq.options,
    groups: [...sq.groups].map(([k, g]) => [k, { ...g, matrices: g.matrices.map(m => [m.rows, m.cols]), plans: g.plans.map(data), prefillPlans: g.prefillPlans?.map(data) }])
  }
}

/** Send through a real structured clone, as postMessage does. */
function send (sq: SqueezedModel, into: Checkpoint = ckpt): SqueezedModel {
  const { message, transfer } = squeezedToTransfer(sq)
  return squeezedFromTransfer(into, structuredClone(message, { transfer }))
}

describe('a squeezed model sent to another thread', () => {
  it('plans, predicts and prints what the original does (wan: packed plans and prefill plans; fused and unfused), its matrices transferred, not copied', () => {
    for (const rounds of ['unfused', 'fused'] as const) {
      const sq = squeezeModel(ckpt, { network: NETWORKS.wan, rounds })
      expect(sq.layout.rounds).toBe(rounds)
      const packed = [...sq.groups.values()].flatMap(g => g.plans).filter(p => p?.packed !== undefined)
      if (rounds === 'unfused') expect(packed.length).toBeGreaterThan(0)
      const want = { shape: shape(sq), greedy: tokens(sq, 0), seeded: tokens(sq, 7), q: [...sq.groups.values()].flatMap(g => g.matrices.map(m => m.q.slice())) }
      const distinctPlans = new Set([...sq.groups.values()].flatMap(g => [...g.plans, ...(g.prefillPlans ?? [])]).filter(p => p !== undefined).map(p => JSON.stringify(planToData(p)))).size
      const first = [...sq.groups.values()][0].matrices[0]
      const got = send(sq)
      // transferred: the sender's buffers are detached
      expect(first.q.byteLength).toBe(0)
      expect(got.otherLayout).toBeUndefined()
      expect(shape(got)).toEqual(want.shape)
      expect([...got.groups.values()].flatMap(g => g.matrices.map(m => m.q))).toEqual(want.q)
      // equal plans arrive as one object each
      expect(new Set([...got.groups.values()].flatMap(g => [...g.plans, ...(g.prefillPlans ?? [])]).filter(p => p !== undefined)).size).toBe(distinctPlans)
      expect(tokens(got, 0)).toEqual(want.greedy)
      expect(tokens(got, 7)).toEqual(want.seeded)
      // the parameters come from the receiver's checkpoint: folded gains are ones there too
      expect(got.params.tokenEmbedding).toBe(ckpt.weights.tokenEmbedding)
      expect([...got.params.rmsAtt].every(v => v === 1)).toBe(true)
    }
  })

  it('is refused for a checkpoint of another shape, and a plan that does not validate is a typed error', () => {
    const { message } = squeezedToTransfer(squeezeModel(ckpt, { network: NETWORKS.loopback }))
    const other = syntheticModel({ dim: 32, hiddenDim: 64, nLayers: 1, nHeads: 4, nKvHeads: 4, vocabSize: 64, seqLen: 16 })
    expect(() => squeezedFromTransfer(other, message)).toThrow(expect.objectContaining({ name: 'SqueezeOptionsError', message: expect.stringContaining('not of this 32-dim 1-layer checkpoint') }))
    const [key, g] = message.groups[0]
    const bad: SqueezedTransfer = { ...message, groups: [[key, { ...g, plans: g.plans.map(p => p === undefined ? p : { ...p, preset: 'n12345' }) }], ...message.groups.slice(1)] }
    expect(() => squeezedFromTransfer(ckpt, bad)).toThrow(expect.objectContaining({ name: 'HeParamsError', message: 'unknown ring preset "n12345"' }))
  })
})
