/**
 * int32 graph ops that carry a proof of exactness: every tensor has an interval per
 * column (its last axis), every op computes the interval of its result, and an op whose
 * result — or, for a sum (ReduceSum, Gemm/MatMul), any partial sum in any order — could
 * leave [−2^31, 2^31) throws {@link GpuGraphError} while the graph is being built. A graph
 * that builds is therefore free of int32 overflow on every input within the declared
 * bounds, whatever order a GPU kernel adds in; that is the whole exactness argument, and
 * the tests at extreme residues (all q − 1) check it held.
 *
 * Division is the one op whose meaning differs by sign (ONNX, C++ and WGSL truncate toward
 * zero): {@link ExactOps.floorDiv} adds a bias first when a value can be negative.
 */
import { GpuGraphError } from './errors.ts'
import type { GraphTensor, OnnxGraph } from './onnx-graph.ts'

/** A closed interval of integers. */
export type Interval = readonly [bigint, bigint]

/** An int32 tensor with an interval per column of its last axis (or one for all). */
export interface IntTensor {
  readonly t: GraphTensor
  readonly cols: readonly Interval[]
}

/** Which op multiplies by a constant matrix: WebGPU has int32 Gemm, the CPU EP int32 MatMul. */
export type LinearOp = 'Gemm' | 'MatMul'

/**
 * Storage buffers one node may bind: WebGPU guarantees 8 per shader stage
 * (maxStorageBuffersPerShaderStage; SwiftShader allows 10, ORT's Split into 12 outputs
 * failed with "Too many storage buffers"). Concat and Split stay within it.
 */
export const MAX_NODE_BUFFERS = 8

/** Largest partial sum WebGPU's f32-accumulating ReduceSum keeps exact (float32's 24-bit significand). */
export const REDUCE_SUM_EXACT = 2n ** 24n

const INT32_MIN = -(2n ** 31n)
const INT32_MAX = 2n ** 31n - 1n

const big = (v: number | bigint): bigint => BigInt(v)
const minB = (...v: bigint[]): bigint => v.reduce((a, b) => (b < a ? b : a))
const maxB = (...v: bigint[]): bigint => v.reduce((a, b) => (b > a ? b : a))
const floorDivB = (a: bigint, d: bigint): bigint => (a >= 0n ? a / d : -((-a + d - 1n) / d))

function broadcast (a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1
    const y = b[b.length - n + i] ?? 1
    if (x !== y && x !== 1 && y !== 1) throw new GpuGraphError(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`)
    out.push(Math.max(x, y))
  }
  return out
}

const last = (s: readonly number[]): number => s[s.length - 1] ?? 1
const colOf = (x: IntTensor, j: number): Interval => (x.cols.length === 1 ? x.cols[0] : x.cols[j])
const union = (cols: readonly Interval[]): Interval => [minB(...cols.map(c => c[0])), maxB(...cols.map(c => c[1]))]

/** The bounded ops over one graph. */
export interface ExactOps {
  /** A graph input whose values the caller guarantees lie in `bound`. */
  input: (name: string, shape: readonly number[], bound: Interval) => IntTensor
  /** An int32 constant; its intervals are the columns' actual ranges. */
  constant: (shape: readonly number[], data: Int32Array) => IntTensor
  add: (a: IntTensor, b: IntTensor) => IntTensor
  sub: (a: IntTensor, b: IntTensor) => IntTensor
  mul: (a: IntTensor, b: IntTensor) => IntTensor
  /** a · k for an integer k. */
  scale: (a: IntTensor, k: bigint) => IntTensor
  /** ⌊a / d⌋ for d > 0, also for negative a. */
  floorDiv: (a: IntTensor, d: bigint) => IntTensor
  /** [a mod d, ⌊a / d⌋]. */
  divMod: (a: IntTensor, d: bigint) => [IntTensor, IntTensor]
  /** a (R, K) @ m (K, J) → (R, J), m a constant integer matrix. */
  linear: (a: IntTensor, m: ReadonlyArray<readonly bigint[]>) => IntTensor
  /**
   * Sum over `axis` (keepdims 0). WebGPU's ReduceSum accumulates int32 in f32 (its shader
   * reads `var sum = f32(0)`; measured inexact above 2^24), so every partial sum must stay
   * within ±{@link REDUCE_SUM_EXACT}; use {@link ExactOps.linear} with a ones matrix for more.
   */
  reduceSum: (a: IntTensor, axis: number) => IntTensor
  /** Permute axes. */
  transpose: (a: IntTensor, perm: readonly number[]) => IntTensor
  concat: (xs: readonly IntTensor[], axis: number) => IntTensor
  reshape: (a: IntTensor, shape: readonly number[]) => IntTensor
  /** Gather `indices` along `axis` (the axis stays, with indices.length entries). */
  gather: (a: IntTensor, axis: number, indices: readonly number[]) => IntTensor
  split: (a: IntTensor, axis: number, sizes: readonly number[]) => IntTensor[]
  /** 1 where a < 0, else 0. */
  isNegative: (a: IntTensor) => IntTensor
  /**
   * A 32-bit word held as int32, as [bits 0–30, bit 31]: a + 2^31 where a < 0, else a,
   * computed as a − (−2^31)·[a < 0], which never overflows.
   */
  unsignedParts: (a: IntTensor) => [IntTensor, IntTensor]
  /** b where a ≥ 0, else c. */
  selectNonNegative: (a: IntTensor, b: IntTensor, c: IntTensor) => IntTensor
  /**
   * Replace the intervals of `a` by tighter ones that follow from a correlation interval
   * arithmetic cannot see; `why` is the proof, kept next to the call.
   */
  assume: (a: IntTensor, bound: Interval | readonly Interval[], why: string) => IntTensor
}

/** Bounded ops that add their nodes to `g`, multiplying by constant matrices with `linearOp`. */
export function exactOps (g: OnnxGraph, linearOp: LinearOp): ExactOps {
  const check = (what: string, iv: Interval): Interval => {
    if (iv[0] < INT32_MIN || iv[1] > INT32_MAX) throw new GpuGraphError(`${what}: values in [${iv[0]}, ${iv[1]}] would overflow int32`)
    return iv
  }
  const scalar = (v: bigint): IntTensor => ({ t: g.int32([1], Int32Array.of(Number(v))), cols: [[v, v]] })
  const elementwise = (op: 'Add' | 'Sub' | 'Mul', a: IntTensor, b: IntTensor, f: (x: Interval, y: Interval) => Interval): IntTensor => {
    const shape = broadcast(a.t.shape, b.t.shape)
    const n = a.cols.length === 1 && b.cols.length === 1 ? 1 : last(shape)
    const cols: Interval[] = []
    for (let j = 0; j < n; j++) cols.push(check(op, f(colOf(a, j), colOf(b, j))))
    return { t: g.node(op, [a.t, b.t], 'int32', shape), cols }
  }
  const ops: ExactOps = {
    input (name, shape, bound) {
      return { t: g.input(name, 'int32', shape), cols: [check(`input ${name}`, bound)] }
    },
    constant (shape, data) {
      const n = last(shape)
      const cols: Interval[] = []
      for (let j = 0; j < n; j++) {
        let lo = Infinity
        let hi = -Infinity
        for (let i = j; i < data.length; i += n) { lo = Math.min(lo, data[i]); hi = Math.max(hi, data[i]) }
        cols.push(data.length === 0 ? [0n, 0n] : [big(lo), big(hi)])
      }
      return { t: g.int32(shape, data), cols }
    },
    add: (a, b) => elementwise('Add', a, b, (x, y) => [x[0] + y[0], x[1] + y[1]]),
    sub: (a, b) => elementwise('Sub', a, b, (x, y) => [x[0] - y[1], x[1] - y[0]]),
    mul: (a, b) => elementwise('Mul', a, b, (x, y) => {
      const p = [x[0] * y[0], x[0] * y[1], x[1] * y[0], x[1] * y[1]]
      return [minB(...p), maxB(...p)]
    }),
    scale: (a, k) => ops.mul(a, scalar(k)),
    floorDiv (a, d) {
      if (d <= 0n) throw new GpuGraphError(`floorDiv by ${d}`)
      const lo = union(a.cols)[0]
      const out = (x: IntTensor): Interval[] => x.cols.map(([l, h]) => [floorDivB(l, d), floorDivB(h, d)])
      if (lo >= 0n) return { t: g.node('Div', [a.t, scalar(d).t], 'int32', a.t.shape), cols: out(a) }
      // Truncating division is floor division on non-negative values: shift by a multiple
      // of d that makes every value non-negative, divide, and shift back.
      const k = (-lo + d - 1n) / d
      const shifted = ops.add(a, scalar(k * d))
      const q = { t: g.node('Div', [shifted.t, scalar(d).t], 'int32', a.t.shape), cols: out(shifted) }
      return { t: ops.sub(q, scalar(k)).t, cols: out(a) }
    },
    divMod (a, d) {
      const q = ops.floorDiv(a, d)
      const r = ops.sub(a, ops.scale(q, d))
      return [ops.assume(r, [0n, d - 1n], 'a − ⌊a/d⌋·d lies in [0, d)'), q]
    },
    linear (a, m) {
      if (a.t.shape.length !== 2 || a.t.shape[1] !== m.length) throw new GpuGraphError(`linear: input [${a.t.shape.join(', ')}] does not match a ${m.length}-row matrix`)
      const k = m.length
      const j = m[0].length
      const cols: Interval[] = []
      const data = new Int32Array(k * j)
      for (let c = 0; c < j; c++) {
        let lo = 0n
        let hi = 0n
        let neg = 0n
        let pos = 0n
        for (let r = 0; r < k; r++) {
          const w = m[r][c]
          check('linear coefficient', [w, w])
          data[r * j + c] = Number(w)
          const [x0, x1] = colOf(a, r)
          const p0 = w * x0
          const p1 = w * x1
          lo += minB(p0, p1)
          hi += maxB(p0, p1)
          neg += minB(p0, p1, 0n)
          pos += maxB(p0, p1, 0n)
        }
        // Any partial sum, in any order, lies in [Σ negative parts, Σ positive parts].
        check(`${linearOp} partial sums`, [neg, pos])
        cols.push([lo, hi])
      }
      const w = g.int32([k, j], data)
      return { t: g.node(linearOp, [a.t, w], 'int32', [a.t.shape[0], j]), cols }
    },
    reduceSum (a, axis) {
      const shape = a.t.shape.filter((_, i) => i !== axis)
      const n = a.t.shape[axis]
      let cols: Interval[]
      let parts: Interval
      if (axis === a.t.shape.length - 1) {
        // Summing the columns themselves: one interval for the result.
        const each = Array.from({ length: n }, (_, j) => colOf(a, j))
        cols = [[each.reduce((s, c) => s + c[0], 0n), each.reduce((s, c) => s + c[1], 0n)]]
        parts = [each.reduce((s, c) => s + minB(c[0], 0n), 0n), each.reduce((s, c) => s + maxB(c[1], 0n), 0n)]
      } else {
        cols = a.cols.map(([l, h]) => [l * big(n), h * big(n)])
        const u = union(a.cols)
        parts = [minB(u[0], 0n) * big(n), maxB(u[1], 0n) * big(n)]
      }
      if (parts[0] < -REDUCE_SUM_EXACT || parts[1] > REDUCE_SUM_EXACT) throw new GpuGraphError(`ReduceSum partial sums in [${parts[0]}, ${parts[1]}] exceed the ±2^24 that an f32 accumulator holds exactly`)
      return { t: g.node('ReduceSum', [a.t, g.int64([axis])], 'int32', shape, { keepdims: 0 }), cols }
    },
    transpose (a, perm) {
      const shape = perm.map(i => a.t.shape[i])
      const keep = perm[perm.length - 1] === perm.length - 1
      return { t: g.node('Transpose', [a.t], 'int32', shape, { perm }), cols: keep ? a.cols : [union(a.cols)] }
    },
    concat (xs, axis) {
      if (xs.length + 1 > MAX_NODE_BUFFERS) {
        // Concatenate in groups, then the groups: the same tensor, fewer buffers per node.
        const groups: IntTensor[] = []
        for (let i = 0; i < xs.length; i += MAX_NODE_BUFFERS - 1) groups.push(ops.concat(xs.slice(i, i + MAX_NODE_BUFFERS - 1), axis))
        return ops.concat(groups, axis)
      }
      if (xs.length === 1) return xs[0]
      const rank = xs[0].t.shape.length
      const shape = [...xs[0].t.shape]
      shape[axis] = xs.reduce((s, x) => s + x.t.shape[axis], 0)
      const cols = axis === rank - 1
        ? xs.flatMap(x => Array.from({ length: x.t.shape[axis] }, (_, j) => colOf(x, j)))
        : [union(xs.flatMap(x => x.cols))]
      return { t: g.node('Concat', xs.map(x => x.t), 'int32', shape, { axis }), cols }
    },
    reshape (a, shape) {
      const keep = last(shape) === last(a.t.shape) && a.cols.length > 1
      return { t: g.node('Reshape', [a.t, g.int64(shape)], 'int32', shape), cols: keep ? a.cols : [union(a.cols)] }
    },
    gather (a, axis, indices) {
      const shape = [...a.t.shape]
      shape[axis] = indices.length
      const cols = axis === shape.length - 1 && a.cols.length > 1 ? indices.map(i => a.cols[i]) : a.cols
      return { t: g.node('Gather', [a.t, g.int64(indices)], 'int32', shape, { axis }), cols }
    },
    split (a, axis, sizes) {
      if (sizes.length + 1 > MAX_NODE_BUFFERS) throw new GpuGraphError(`a Split into ${sizes.length} outputs binds more than ${MAX_NODE_BUFFERS} storage buffers; gather the pieces instead`)
      let start = 0
      const outs = sizes.map(s => {
        const shape = [...a.t.shape]
        shape[axis] = s
        const cols = axis === shape.length - 1 && a.cols.length > 1 ? a.cols.slice(start, start + s) : a.cols
        start += s
        return { shape, cols }
      })
      const ts = g.nodeN('Split', [a.t, g.int64(sizes)], outs.map(o => ({ type: 'int32' as const, shape: o.shape })), { axis })
      return ts.map((t, i) => ({ t, cols: outs[i].cols }))
    },
    isNegative (a) {
      const less = g.node('Less', [a.t, scalar(0n).t], 'bool', a.t.shape)
      return { t: g.node('Cast', [less], 'int32', a.t.shape, { to: 6 /* INT32 */ }), cols: [[0n, 1n]] }
    },
    unsignedParts (a) {
      const bit31 = ops.isNegative(a)
      const offset = ops.scale(bit31, INT32_MIN)
      // Per element either a < 0 and the result is a + 2^31 ∈ [0, 2^31), or offset = 0.
      const low = { t: g.node('Sub', [a.t, offset.t], 'int32', a.t.shape), cols: [[0n, INT32_MAX]] as Interval[] }
      return [low, bit31]
    },
    selectNonNegative (a, b, c) {
      const ge = g.node('GreaterOrEqual', [a.t, scalar(0n).t], 'bool', a.t.shape)
      const shape = broadcast(a.t.shape, broadcast(b.t.shape, c.t.shape))
      return { t: g.node('Where', [ge, b.t, c.t], 'int32', shape), cols: [union([...b.cols, ...c.cols])] }
    },
    assume (a, bound, why) {
      if (why === '') throw new GpuGraphError('an assumed bound needs its reason')
      const cols = typeof bound[0] === 'bigint' ? [bound as Interval] : bound as readonly Interval[]
      if (cols.length !== 1 && cols.length !== last(a.t.shape)) throw new GpuGraphError(`${cols.length} assumed column bounds for a last axis of ${last(a.t.shape)}`)
      return { t: a.t, cols: cols.map(c => check('assumed bound', c)) }
    }
  }
  return ops
}
