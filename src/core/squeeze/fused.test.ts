import { describe, expect, it } from 'vitest'
import { parseCheckpoint, type Checkpoint } from '../model/checkpoint.ts'
import { f32Engine } from '../model/engines.ts'
import { createRunState, forwardRounds, runRounds, type ForwardLayout, type LinearRound, type RoundGroup } from '../model/forward.ts'
import { groupMatrices } from '../model/linear.ts'
import { prng, stories260K, syntheticCheckpoint } from '../../test/fixtures.ts'
import { computeLazy, fusedProducts, productFloat, productMatrix } from './fused.ts'
import { squeezeModel } from './squeeze.ts'

// The fused layout with float64 weights and no quantization: every group's matrices in
// request-output order, RMSNorm gains folded into them (the params' gains are ones).
function floatFused (ckpt: Checkpoint): (round: LinearRound) => void {
  const c = ckpt.config
  const w = ckpt.weights
  const folded = (group: 'qkv' | 'o' | 'up' | 'down' | 'cls', layer: number): Float64Array[] => groupMatrices(c, group, layer).map(m => {
    const gain = group === 'qkv' ? w.rmsAtt : group === 'up' ? w.rmsFfn : group === 'cls' ? w.rmsFinal : undefined
    const gOff = group === 'cls' ? 0 : layer * c.dim
    return Float64Array.from({ length: m.rows * m.cols }, (_, i) => w[m.tensor][m.offset + i] * (gain === undefined ? 1 : gain[gOff + (i % m.cols)]))
  })
  const matrices = (group: RoundGroup, layer: number): Float64Array[] => {
    if (group === 'o-up') return [...folded('o', layer), ...fusedProducts(c, group, layer).map(p => productFloat(ckpt, p))]
    if (group === 'down-qkv') return [...folded('down', layer), ...fusedProducts(c, group, layer).map(p => productFloat(ckpt, p))]
    if (group === 'cls-down') return fusedProducts(c, group, layer).map(p => productFloat(ckpt, p))
    return folded(group, layer)
  }
  return round => {
    for (const r of round) {
      const cols = r.input.length / r.batch
      matrices(r.group, r.layer).forEach((m, i) => {
        const out = r.outputs[i]
        const rows = m.length / cols
        for (let t = 0; t < r.batch; t++) {
          for (let j = 0; j < rows; j++) {
            let acc = 0
            for (let k = 0; k < cols; k++) acc += m[j * cols + k] * r.input[t * cols + k]
            out[t * rows + j] = acc
          }
        }
      })
    }
  }
}

function logSoftmax (x: Float32Array): Float64Array {
  const max = x.reduce((a, b) => Math.max(a, b), -Infinity)
  const lse = max + Math.log(x.reduce((a, b) => a + Math.exp(b - max), 0))
  return Float64Array.from(x, v => v - lse)
}

// max |Δ log p| between the unfused float32 forward and the float fused one, teacher-forced
function worstLogProbGap (ckpt: Checkpoint, layout: ForwardLayout, tokens: number[]): number {
  const ref = f32Engine(ckpt)
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1)
  const params = { config: ckpt.config, tokenEmbedding: ckpt.weights.tokenEmbedding, rmsAtt: ones(ckpt.weights.rmsAtt.length), rmsFfn: ones(ckpt.weights.rmsFfn.length), rmsFinal: ones(ckpt.weights.rmsFinal.length) }
  const state = createRunState(ckpt.config)
  const backend = { runRound: floatFused(ckpt) }
  let worst = 0
  tokens.forEach((t, pos) => {
    const a = logSoftmax(ref.forward(t, pos))
    const b = logSoftmax(runRounds(forwardRounds(params, state, [t], pos, layout), backend))
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]))
  })
  return worst
}

describe('the fused algebra (float64, no quantization)', () => {
  const ckpt = parseCheckpoint(stories260K().model)
  const text = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432]

  it('reproduces the unfused float32 forward on stories260K to ~1e-5 in log-probs', () => {
    const gap = worstLogProbGap(ckpt, { rounds: 'fused', classifierInLastRound: false }, text)
    expect(gap).toBeLessThan(1e-4) // measured 4·10⁻⁶: float32 storage between rounds
  })

  it('with the classifier inside the last β round, too (an untied model)', () => {
    const untied = parseCheckpoint(syntheticCheckpoint({ dim: 32, hiddenDim: 48, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 300, seqLen: 24, shared: false }))
    const gap = worstLogProbGap(untied, { rounds: 'fused', classifierInLastRound: true }, [1, 5, 9, 200, 17, 3, 42, 299, 8, 100])
    expect(gap).toBeLessThan(1e-4)
  })

  it('a wrong product is caught: dropping the gain G from W13·G·Wo moves the log-probs', () => {
    const c = ckpt.config
    const broken = { ...ckpt, weights: { ...ckpt.weights, rmsFfn: ckpt.weights.rmsFfn.map(() => 1) } }
    // the fused products use the unit gains while the reference keeps the real ones
    const gapBroken = (() => {
      const ref = f32Engine(ckpt)
      const ones = (n: number): Float32Array => new Float32Array(n).fill(1)
      const params = { config: c, tokenEmbedding: ckpt.weights.tokenEmbedding, rmsAtt: ones(c.nLayers * c.dim), rmsFfn: ones(c.nLayers * c.dim), rmsFinal: ones(c.dim) }
      const state = createRunState(c)
      const a = logSoftmax(ref.forward(1, 0))
      const b = logSoftmax(runRounds(forwardRounds(params, state, [1], 0, { rounds: 'fused', classifierInLastRound: false }), { runRound: floatFused(broken) }))
      return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0)
    })()
    expect(gapBroken).toBeGreaterThan(1e-2)
  })
})

describe('fused matrices', () => {
  it('productMatrix equals a float64 reference on ragged shapes, gain on the inner dimension', () => {
    const rand = prng(5)
    for (const [rows, inner, cols] of [[1, 1, 1], [3, 5, 2], [7, 13, 6], [9, 4, 11]]) {
      const a = Float32Array.from({ length: 2 + rows * inner }, () => rand() - 0.5)
      const g = Float32Array.from({ length: 1 + inner }, () => rand() + 0.5)
      const b = Float32Array.from({ length: 3 + inner * cols }, () => rand() - 0.5)
      const out = productMatrix(a, 2, rows, inner, g, 1, b, 3, cols)
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < cols; j++) {
          let ref = 0
          for (let k = 0; k < inner; k++) ref += a[2 + r * inner + k] * g[1 + k] * b[3 + k * cols + j]
          expect(out[r * cols + j]).toBeCloseTo(ref, 12)
        }
      }
    }
  })

  it('are deterministic (a miner squeezing the same checkpoint gets the same bytes) and stacked in output order', () => {
    const ckpt = parseCheckpoint(stories260K().model)
    const a = squeezeModel(ckpt, { rounds: 'fused' })
    const b = squeezeModel(ckpt, { rounds: 'fused' })
    const c = ckpt.config
    for (const key of ['o-up:0', 'down-qkv:3']) {
      const ma = a.groups.get(key)?.matrices[0]
      const mb = b.groups.get(key)?.matrices[0]
      expect(ma?.q).toEqual(mb?.q)
      expect(ma?.scale).toEqual(mb?.scale)
    }
    expect(a.groups.get('o-up:2')?.outputRows).toEqual([[c.dim, c.hiddenDim, c.hiddenDim]])
    expect(a.groups.get('down-qkv:2')?.outputRows).toEqual([[c.dim, c.dim, c.kvDim, c.kvDim]])
    // the plain part of 'o-up' is exactly today's Wo, the x-part of α today's 'up'
    const wo = squeezeModel(ckpt).groups.get('o:2')?.matrices[0]
    expect(a.groups.get('o-up:2')?.matrices[0].q.subarray(0, c.dim * c.dim)).toEqual(wo?.q)
    expect(a.groups.get('up:2')?.matrices[0].q).toEqual(squeezeModel(ckpt).groups.get('up:2')?.matrices[0].q)
    // unstacked, each product is its own matrix
    expect(squeezeModel(ckpt, { rounds: 'fused', fuse: false }).groups.get('down-qkv:0')?.matrices.map(m => m.rows)).toEqual([c.dim, c.dim, c.kvDim, c.kvDim])
  })

  it('computeLazy makes a fused group\'s stacked products in slices, the event loop running between them, with the bytes a plain read gives (two calls at once, too)', async () => {
    const ckpt = parseCheckpoint(stories260K().model)
    for (const key of ['o-up:1', 'down-qkv:3']) {
      const plain = squeezeModel(ckpt, { rounds: 'fused', exactPlans: false }).groups.get(key)?.matrices[0]
      const sliced = squeezeModel(ckpt, { rounds: 'fused', exactPlans: false }).groups.get(key)?.matrices[0]
      if (plain === undefined || sliced === undefined) throw new Error(`no ${key}`)
      let ticks = 0
      const timer = setInterval(() => { ticks++ }, 0)
      try {
        // slices of one row: stories260K's products are small, so make them many
        await Promise.all([computeLazy(sliced, 1), computeLazy(sliced, 1)])
      } finally {
        clearInterval(timer)
      }
      expect(ticks).toBeGreaterThan(2)
      expect(sliced.q).toEqual(plain.q)
      expect(sliced.scale).toEqual(plain.scale)
      await computeLazy(sliced) // computed: at once
    }
    // a plain matrix: nothing to do
    await computeLazy({ rows: 1, cols: 1, q: new Int8Array(1), scale: new Float64Array(1) })
  })
})
