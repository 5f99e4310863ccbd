import { describe, expect, it } from 'vitest'
import { parseCheckpoint } from './checkpoint.ts'
import { createRunState, forwardProgram, type LinearRequest } from './forward.ts'
import { f32Backend, groupMatrices, matvecF32 } from './linear.ts'
import { prng, stories260K } from '../../test/fixtures.ts'
import { dequantize, groupKey, INT8_MAX, matvecInt8, quantizeActivation, quantizeMatrix, quantizeModel, roundHalfAway, w8a8Backend } from './w8a8.ts'

function randomInt8 (n: number, rand: () => number, extremes = false): Int8Array {
  const a = new Int8Array(n)
  for (let i = 0; i < n; i++) a[i] = extremes ? (rand() < 0.5 ? -127 : 127) : Math.floor(rand() * 255) - 127
  return a
}

// The same matvec in BigInt: an independent, obviously exact reference.
function matvecBig (q: Int8Array, rows: number, cols: number, x: Int8Array): number[] {
  const out: number[] = []
  for (let r = 0; r < rows; r++) {
    let a = 0n
    for (let j = 0; j < cols; j++) a += BigInt(q[r * cols + j]) * BigInt(x[j])
    out.push(Number(a))
  }
  return out
}

describe('matvecInt8', () => {
  const shapes: Array<[number, number]> = [[1, 1], [3, 7], [64, 64], [172, 64], [64, 172], [33, 1000], [2, 4096]]
  for (const [rows, cols] of shapes) {
    it(`is exact for ${rows}×${cols}, random and extreme values`, () => {
      const rand = prng(rows * 1000 + cols)
      for (const extremes of [false, true]) {
        const q = randomInt8(rows * cols, rand, extremes)
        const x = randomInt8(cols, rand, extremes)
        const acc = new Int32Array(rows)
        matvecInt8(q, rows, cols, x, acc)
        expect(Array.from(acc)).toEqual(matvecBig(q, rows, cols, x))
      }
    })
  }

  it('reaches the bound cols·127·127 without overflow', () => {
    const cols = 100_000
    const q = new Int8Array(cols).fill(-127)
    const x = new Int8Array(cols).fill(-127)
    const acc = new Int32Array(1)
    matvecInt8(q, 1, cols, x, acc)
    expect(acc[0]).toBe(cols * 127 * 127)
  })
})

describe('quantization', () => {
  it('rounds half away from zero', () => {
    expect([2.5, -2.5, 0.5, -0.5, 1.49, -1.51].map(roundHalfAway)).toEqual([3, -3, 1, -1, 1, -2])
  })

  it('maps the largest activation to ±127 and stays within half a step', () => {
    const rand = prng(5)
    const x = Float32Array.from({ length: 300 }, () => (rand() - 0.5) * 10)
    const q = new Int8Array(300)
    const s = quantizeActivation(x, q)
    const amax = Math.max(...Array.from(x, Math.abs))
    expect(s).toBeCloseTo(amax / 127, 12)
    expect(Math.max(...Array.from(q, Math.abs))).toBe(INT8_MAX)
    for (let i = 0; i < x.length; i++) expect(Math.abs(x[i] - q[i] * s)).toBeLessThanOrEqual(s / 2 + 1e-12)
  })

  it('quantizes an all-zero vector to zeros with scale 1', () => {
    const q = new Int8Array(4).fill(9)
    expect(quantizeActivation(new Float32Array(4), q)).toBe(1)
    expect(Array.from(q)).toEqual([0, 0, 0, 0])
  })

  it('uses one scale per output row and folds a gain into the columns', () => {
    const w = Float32Array.from([1, -2, 0.5, 0, 0, 0, 4, 8, -16])
    const g = Float32Array.from([2, 1, 0.5])
    const plain = quantizeMatrix(w, 0, 3, 3)
    expect(Array.from(plain.scale)).toEqual([2 / 127, 1, 16 / 127])
    expect(Array.from(plain.q.subarray(3, 6))).toEqual([0, 0, 0])
    expect(Array.from(plain.q.subarray(6))).toEqual([32, 64, -127])
    const folded = quantizeMatrix(w, 0, 3, 3, g)
    const wg = Float32Array.from([2, -2, 0.25, 0, 0, 0, 8, 8, -8])
    expect(folded).toEqual(quantizeMatrix(wg, 0, 3, 3))
  })

  it('dequantizes acc · row scale · input scale', () => {
    const y = new Float32Array(2)
    dequantize(Int32Array.from([100, -3]), Float64Array.from([0.5, 2]), 0.25, y)
    expect(Array.from(y)).toEqual([12.5, -1.5])
  })
})

describe('the W8A8 model of stories260K', () => {
  const ckpt = parseCheckpoint(stories260K().model)

  it('folds RMSNorm gains (the forward pass then sees unit gains)', () => {
    const m = quantizeModel(ckpt)
    expect(m.foldedNorms).toBe(true)
    expect(Array.from(new Set(m.params.rmsAtt))).toEqual([1])
    expect(Array.from(new Set(m.params.rmsFinal))).toEqual([1])
    const unfolded = quantizeModel(ckpt, { foldNorms: false })
    expect(unfolded.params.rmsAtt).toBe(ckpt.weights.rmsAtt)
  })

  it('has every group with the checkpoint\'s shapes', () => {
    const m = quantizeModel(ckpt)
    expect(m.groups.size).toBe(5 * 4 + 1)
    for (const [group, layer] of [['qkv', 0], ['up', 4], ['down', 2], ['cls', -1]] as const) {
      const mats = m.groups.get(groupKey(group, layer))
      expect(mats?.map(q => [q.rows, q.cols])).toEqual(groupMatrices(ckpt.config, group, layer).map(r => [r.rows, r.cols]))
    }
  })

  it('backend output equals dequantized integer matvecs of a once-quantized input', () => {
    const m = quantizeModel(ckpt)
    const rand = prng(9)
    const input = Float32Array.from({ length: 64 }, () => rand() - 0.5)
    const outs = [new Float32Array(64), new Float32Array(32), new Float32Array(32)]
    w8a8Backend(m).run({ group: 'qkv', layer: 3, input, outputs: outs })
    const xq = new Int8Array(64)
    const s = quantizeActivation(input, xq)
    m.groups.get('qkv:3')?.forEach((mat, i) => {
      const acc = new Int32Array(mat.rows)
      matvecInt8(mat.q, mat.rows, mat.cols, xq, acc)
      const y = new Float32Array(mat.rows)
      dequantize(acc, mat.scale, s, y)
      expect(outs[i]).toEqual(y)
    })
  })

  it('stays close to float32 on the activations of a real forward pass', () => {
    const m = quantizeModel(ckpt, { foldNorms: false })
    const wb = w8a8Backend(m)
    const fb = f32Backend(ckpt)
    const state = createRunState(ckpt.config)
    const prog = forwardProgram({ config: ckpt.config, tokenEmbedding: ckpt.weights.tokenEmbedding, rmsAtt: ckpt.weights.rmsAtt, rmsFfn: ckpt.weights.rmsFfn, rmsFinal: ckpt.weights.rmsFinal }, state, 403, 0)
    let step = prog.next()
    let worst = 0
    while (step.done !== true) {
      const req: LinearRequest = step.value
      const q = req.outputs.map(o => new Float32Array(o.length))
      wb.run({ ...req, outputs: q })
      fb.run(req)
      req.outputs.forEach((o, i) => {
        const norm = Math.sqrt(o.reduce((a, v) => a + v * v, 0))
        const err = Math.sqrt(o.reduce((a, v, j) => a + (v - q[i][j]) ** 2, 0))
        worst = Math.max(worst, err / norm)
      })
      step = prog.next()
    }
    expect(worst).toBeLessThan(0.05)
  })
})

describe('matvecF32', () => {
  it('matches a float64 reference on ragged shapes', () => {
    const rand = prng(2)
    for (const [rows, cols] of [[1, 1], [5, 3], [7, 13], [64, 172]]) {
      const w = Float32Array.from({ length: rows * cols + 3 }, () => rand() - 0.5)
      const x = Float32Array.from({ length: cols }, () => rand() - 0.5)
      const out = new Float32Array(rows)
      matvecF32(w, 3, rows, cols, x, out)
      for (let r = 0; r < rows; r++) {
        let ref = 0
        for (let j = 0; j < cols; j++) ref += w[3 + r * cols + j] * x[j]
        expect(out[r]).toBeCloseTo(ref, 5)
      }
    }
  })
})
