import ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { GpuGraphError } from './errors.ts'
import { exactOps } from './exact-int.ts'
import { createOnnxGraph } from './onnx-graph.ts'

async function run (model: Uint8Array, x: Int32Array): Promise<Int32Array> {
  const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 })
  const r = await s.run({ x: new ort.Tensor('int32', x, [x.length, 1]) })
  await s.release()
  return r.y.data as Int32Array
}

describe('bounded int32 ops', () => {
  it('refuse a product that could leave int32, and accept one that cannot', () => {
    const ops = exactOps(createOnnxGraph('t'), 'MatMul')
    const a = ops.input('a', [4], [0n, 2n ** 16n])
    const b = ops.input('b', [4], [0n, 2n ** 14n])
    expect(() => ops.mul(a, a)).toThrow(GpuGraphError)
    expect(ops.mul(a, b).cols).toEqual([[0n, 2n ** 30n]])
  })

  it('refuse a matrix product whose partial sums could overflow in some order', () => {
    const ops = exactOps(createOnnxGraph('t'), 'Gemm')
    const x = ops.input('x', [8, 2], [0n, 2n ** 20n])
    // +2^10·x and −2^10·x: the total is small, but x₀·2^10 + x₀·2^10 alone is not.
    expect(() => ops.linear(x, [[2n ** 10n], [2n ** 10n]])).toThrow(/partial sums/)
    expect(ops.linear(x, [[2n ** 9n], [2n ** 9n]]).cols).toEqual([[0n, 2n ** 30n]])
  })

  it('refuse a ReduceSum beyond the 2^24 that WebGPU’s f32 accumulator keeps exact', () => {
    const ops = exactOps(createOnnxGraph('t'), 'Gemm')
    expect(() => ops.reduceSum(ops.input('x', [2, 257], [0n, 2n ** 16n]), 1)).toThrow(/2\^24/)
    expect(ops.reduceSum(ops.input('y', [2, 256], [0n, 2n ** 16n]), 1).cols).toEqual([[0n, 2n ** 24n]])
  })

  it('floorDiv and divMod floor negative values (ONNX Div truncates), checked on the CPU EP', async () => {
    const g = createOnnxGraph('t')
    const ops = exactOps(g, 'MatMul')
    // The bias that makes −2^30 non-negative is 2^30: the values may go up to 2^31 − 1 − 2^30.
    const other = exactOps(createOnnxGraph('u'), 'MatMul')
    expect(() => other.floorDiv(other.input('big', [1, 1], [-(2n ** 30n), 2n ** 30n]), 2048n)).toThrow(GpuGraphError)
    const x = ops.input('x', [7, 1], [-(2n ** 30n), 2n ** 30n - 1n])
    const [r, q] = ops.divMod(x, 2048n)
    g.output(ops.concat([q, r], 1).t, 'y')
    const xs = Int32Array.of(-(2 ** 30), -2049, -2048, -1, 0, 2047, 2 ** 30 - 1)
    const y = await run(g.encode(), xs)
    xs.forEach((v, i) => {
      expect(y[2 * i]).toBe(Math.floor(v / 2048))
      expect(y[2 * i + 1]).toBe(v - Math.floor(v / 2048) * 2048)
    })
  })

  it('unsignedParts reads a 32-bit word held as int32 without overflow', async () => {
    const g = createOnnxGraph('t')
    const ops = exactOps(g, 'MatMul')
    const x = ops.input('x', [5, 1], [-(2n ** 31n), 2n ** 31n - 1n])
    const [low, bit31] = ops.unsignedParts(x)
    g.output(ops.concat([low, bit31], 1).t, 'y')
    const words = Uint32Array.of(0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1)
    const y = await run(g.encode(), new Int32Array(words.buffer))
    words.forEach((w, i) => {
      expect(y[2 * i]).toBe(w % 2 ** 31)
      expect(y[2 * i + 1]).toBe(w >= 2 ** 31 ? 1 : 0)
    })
  })

  it('keep Concat and Split within the storage buffers WebGPU allows per node', () => {
    const g = createOnnxGraph('t')
    const ops = exactOps(g, 'Gemm')
    const cols = Array.from({ length: 12 }, (_, i) => ops.input(`c${i}`, [4, 1], [0n, 1n]))
    expect(ops.concat(cols, 1).t.shape).toEqual([4, 12])
    expect(g.opCounts().Concat).toBe(3) // two groups of ≤ 7, then the groups
    expect(() => ops.split(ops.input('s', [4, 8], [0n, 1n]), 1, new Array<number>(8).fill(1))).toThrow(/storage buffers/)
  })
})
