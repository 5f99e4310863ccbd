/**
 * The round-fused plan's matrices (Cerberus Squeezing, issue 12): products of two of the
 * model's matrices, so that one job returns a layer's output projection and the next
 * matrix's projection of the residual at once (the algebra is in model/forward.ts).
 *
 * - 'o-up' l:     [Wo; W1·G·Wo; W3·G·Wo]            (G = layer l's ffn RMSNorm gain)
 * - 'down-qkv' l: [W2; Wq'·G'·W2; Wk'·G'·W2; Wv'·G'·W2] (' = layer l + 1, G' its attention gain)
 * - 'cls-down':   [Wcls·Gf·W2] of the last layer     (Gf the final gain; encrypted classifiers only)
 *
 * Products are computed in float64 from the checkpoint's float32 weights, in a fixed order
 * (so a miner squeezing the same checkpoint gets the same bytes), then requantized to int8
 * per output channel. A 768-dim layer's products are ~6·10⁹ multiply-adds (seconds in
 * JavaScript), so each product matrix is computed on first use of its weights: a plan, a
 * prediction or a miner serving other matrices never pays for it.
 */
import type { Checkpoint, ModelConfig } from '../model/checkpoint.ts'
import { groupMatrices, type MatrixRef } from '../model/linear.ts'
import { emptyQuantized, quantizeMatrix, quantizeRowsInto, type QuantizedMatrix } from '../model/w8a8.ts'
import { yieldToLoop } from '../event-loop.ts'

// out (rows, cols) = (A ⊙ g) (rows, inner) · B (inner, cols), float64. Each entry is a
// 2-lane dot product over inner in ascending order (even k, odd k, then the sum), two
// columns per pass so each row element is loaded once for both: deterministic (no FMA in
// JavaScript) and ~2× faster than one column at a time in V8.
export function productMatrix (a: Float32Array, aOff: number, rows: number, inner: number, gain: Float32Array | undefined, gainOff: number, b: Float32Array, bOff: number, cols: number): Float64Array {
  const p = productSteps(a, aOff, rows, inner, gain, gainOff, b, bOff, cols)
  p.rows(rows)
  return p.out
}

/**
 * {@link productMatrix} a slice of rows at a time: `rows(n)` computes the next n rows of
 * `out` (the same arithmetic, so the same bits) and returns how many are done.
 */
function productSteps (a: Float32Array, aOff: number, rows: number, inner: number, gain: Float32Array | undefined, gainOff: number, b: Float32Array, bOff: number, cols: number): { out: Float64Array, rows: (n: number) => number } {
  const bt = new Float64Array(cols * inner)
  for (let k = 0; k < inner; k++) for (let j = 0; j < cols; j++) bt[j * inner + k] = b[bOff + k * cols + j]
  const row = new Float64Array(inner)
  const out = new Float64Array(rows * cols)
  const n2 = inner - (inner % 2)
  const dot = (o: number): number => {
    let s0 = 0
    let s1 = 0
    for (let k = 0; k < n2; k += 2) {
      s0 += row[k] * bt[o + k]
      s1 += row[k + 1] * bt[o + k + 1]
    }
    if (n2 < inner) s0 += row[n2] * bt[o + n2]
    return s0 + s1
  }
  let done = 0
  const step = (n: number): number => {
    const end = Math.min(rows, done + n)
    for (let r = done; r < end; r++) {
      for (let k = 0; k < inner; k++) row[k] = a[aOff + r * inner + k] * (gain === undefined ? 1 : gain[gainOff + k])
      let j = 0
      for (; j + 1 < cols; j += 2) {
        const o0 = j * inner
        const o1 = o0 + inner
        let s0 = 0
        let s1 = 0
        let t0 = 0
        let t1 = 0
        for (let k = 0; k < n2; k += 2) {
          const x0 = row[k]
          const x1 = row[k + 1]
          s0 += x0 * bt[o0 + k]
          s1 += x1 * bt[o0 + k + 1]
          t0 += x0 * bt[o1 + k]
          t1 += x1 * bt[o1 + k + 1]
        }
        if (n2 < inner) {
          s0 += row[n2] * bt[o0 + n2]
          t0 += row[n2] * bt[o1 + n2]
        }
        out[r * cols + j] = s0 + s1
        out[r * cols + j + 1] = t0 + t1
      }
      if (j < cols) out[r * cols + j] = dot(j * inner)
    }
    done = end
    return done
  }
  return { out, rows: step }
}

/** Multiply-adds computed between two yields of {@link computeLazy} (~10–20 ms of JavaScript here). */
export const LAZY_SLICE_MACS = 2 ** 23

/** The async computation of each lazy matrix (see {@link computeLazy}). */
const lazyAsync = new WeakMap<QuantizedMatrix, (sliceMacs: number) => Promise<void>>()

/**
 * Compute a lazy matrix's weights (a fused product, a stack of them) in slices, yielding to
 * the event loop between slices, so that a miner in a page — a donor's tab — stays
 * responsive, its WebRTC streams included, while it makes a fused product (seconds per
 * 768-dim layer). Resolves at once for a plain or an already computed matrix; the weights
 * are the same bits a plain read computes; concurrent calls share one computation.
 */
export async function computeLazy (m: QuantizedMatrix, sliceMacs = LAZY_SLICE_MACS): Promise<void> {
  await lazyAsync.get(m)?.(sliceMacs)
}

/**
 * A quantized matrix whose weights are computed when first read — or ahead of that by
 * {@link computeLazy} when `computeAsync` is given (the same weights, in slices).
 */
export function lazyMatrix (rows: number, cols: number, compute: () => QuantizedMatrix, computeAsync?: (sliceMacs: number) => Promise<QuantizedMatrix>): QuantizedMatrix {
  let m: QuantizedMatrix | undefined
  let pending: Promise<void> | undefined
  const get = (): QuantizedMatrix => (m ??= compute())
  const lazy: QuantizedMatrix = {
    rows,
    cols,
    get q () { return get().q },
    get scale () { return get().scale }
  }
  if (computeAsync !== undefined) {
    lazyAsync.set(lazy, async (sliceMacs) => {
      if (m !== undefined) return
      pending ??= computeAsync(sliceMacs).then(r => { m ??= r }, (err: unknown) => { pending = undefined; throw err })
      await pending
    })
  }
  return lazy
}

/** Matrices with the same columns as one, rows stacked in order (computed when read). */
export function stackMatrices (mats: readonly QuantizedMatrix[]): QuantizedMatrix {
  if (mats.length === 1) return mats[0]
  const cols = mats[0].cols
  const rows = mats.reduce((a, m) => a + m.rows, 0)
  const stack = (): QuantizedMatrix => {
    const out = emptyQuantized(rows, cols)
    let r = 0
    for (const m of mats) {
      out.q.set(m.q, r * cols)
      out.scale.set(m.scale, r)
      r += m.rows
    }
    return out
  }
  return lazyMatrix(rows, cols, stack, async (sliceMacs) => {
    for (const m of mats) await computeLazy(m, sliceMacs)
    return stack()
  })
}

/** A product of two checkpoint matrices, A·diag(gain)·B, as a float64 (rows, cols) matrix. */
export interface ProductRef {
  readonly a: MatrixRef
  readonly gain?: { readonly tensor: 'rmsAtt' | 'rmsFfn' | 'rmsFinal', readonly offset: number }
  readonly b: MatrixRef
}

/** The products that make up a fused group's parts after its first (plain) matrix, in output order. */
export function fusedProducts (c: ModelConfig, group: 'o-up' | 'down-qkv' | 'cls-down', layer: number): ProductRef[] {
  switch (group) {
    case 'o-up': {
      const wo = groupMatrices(c, 'o', layer)[0]
      return groupMatrices(c, 'up', layer).map(a => ({ a, gain: { tensor: 'rmsFfn', offset: layer * c.dim }, b: wo }))
    }
    case 'down-qkv': {
      const w2 = groupMatrices(c, 'down', layer)[0]
      return groupMatrices(c, 'qkv', layer + 1).map(a => ({ a, gain: { tensor: 'rmsAtt', offset: (layer + 1) * c.dim }, b: w2 }))
    }
    case 'cls-down':
      return [{ a: groupMatrices(c, 'cls', -1)[0], gain: { tensor: 'rmsFinal', offset: 0 }, b: groupMatrices(c, 'down', layer)[0] }]
  }
}

/** The float64 product of a {@link ProductRef} (the fused plan without quantization). */
export function productFloat (ckpt: Checkpoint, p: ProductRef): Float64Array {
  const w = ckpt.weights
  return productMatrix(w[p.a.tensor], p.a.offset, p.a.rows, p.a.cols, p.gain === undefined ? undefined : w[p.gain.tensor], p.gain?.offset ?? 0, w[p.b.tensor], p.b.offset, p.b.cols)
}

/**
 * A product, requantized to int8 per output channel, computed when first read (or by
 * {@link computeLazy}: its rows in slices, each slice quantized as it is made — rows are
 * quantized independently, so the bytes are those of the whole).
 */
export function quantizedProduct (ckpt: Checkpoint, p: ProductRef): QuantizedMatrix {
  const rows = p.a.rows
  const cols = p.b.cols
  return lazyMatrix(rows, cols, () => quantizeMatrix(productFloat(ckpt, p), 0, rows, cols), async (sliceMacs) => {
    const w = ckpt.weights
    const steps = productSteps(w[p.a.tensor], p.a.offset, rows, p.a.cols, p.gain === undefined ? undefined : w[p.gain.tensor], p.gain?.offset ?? 0, w[p.b.tensor], p.b.offset, cols)
    const out = emptyQuantized(rows, cols)
    const slice = Math.max(1, Math.floor(sliceMacs / (p.a.cols * cols)))
    for (let done = 0; done < rows;) {
      const from = done
      done = steps.rows(slice)
      quantizeRowsInto(out, from, done - from, steps.out, from * cols)
      if (done < rows) await yieldToLoop()
    }
    return out
  })
}
