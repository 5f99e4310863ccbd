/**
 * W8A8: int8 weights with one scale per output channel, int8 activations with one
 * dynamic scale per token (per linear input), integer accumulation, dequantization after.
 *
 * This is the exact plaintext twin of the encrypted pipeline: the miners compute
 * `matvecInt8` on ciphertexts, so the HE layer is checked against these functions bit for
 * bit, and the encrypted engine must print exactly the tokens of the W8A8 engine.
 *
 * RMSNorm gains are folded into the matrices that follow them (W' = W·diag(g)), so the
 * activation that is quantized is the normalized vector itself; the model's own gains
 * become ones. The classifier is quantized too (it follows the final RMSNorm).
 */
import type { Checkpoint, CheckpointWeights, ModelConfig } from './checkpoint.ts'
import type { LinearBackendSync, LinearGroup, LinearRequest, RoundGroup, TransformerParams } from './forward.ts'
import { groupMatrices, linearGroups, type MatrixRef } from './linear.ts'
import { yieldToLoop } from '../event-loop.ts'

/** The int8 range used: symmetric [-127, 127], so negation never overflows. */
export const INT8_MAX = 127

/** An int8 matrix with per-row (output channel) scales: W ≈ diag(scale) · q. */
export interface QuantizedMatrix {
  readonly rows: number
  readonly cols: number
  /** (rows, cols) row-major, values in [-127, 127]. */
  readonly q: Int8Array
  /** (rows,) */
  readonly scale: Float64Array
}

/** A quantized model: the parameters the forward pass needs and every linear group. */
export interface W8A8Model {
  readonly params: TransformerParams
  /** Per group key `${group}:${layer}`, the matrices in request-output order. */
  readonly groups: ReadonlyMap<string, readonly QuantizedMatrix[]>
  /** Whether RMSNorm gains were folded into the matrices (params' gains are then ones). */
  readonly foldedNorms: boolean
}

/** Options of {@link quantizeModel}. */
export interface QuantizeOptions {
  /** Fold RMSNorm gains into the following matrices (default true, what the HE plan uses). */
  readonly foldNorms?: boolean
}

/** Round half away from zero (C's `roundf`), the one rounding rule of this module. */
export function roundHalfAway (v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v)
}

// q (rows, cols) = round(W (rows, cols) ⊙ g (cols,) / scale (rows,)), scale = max|row| / 127
// (W in float64 for the round-fused plan's products, which are requantized from float64)
export function quantizeMatrix (w: Float32Array | Float64Array, offset: number, rows: number, cols: number, gain?: Float32Array, gainOff = 0): QuantizedMatrix {
  const m = emptyQuantized(rows, cols)
  quantizeRowsInto(m, 0, rows, w, offset, gain, gainOff)
  return m
}

/** A zeroed (rows, cols) matrix for {@link quantizeRowsInto} to fill. */
export function emptyQuantized (rows: number, cols: number): QuantizedMatrix {
  return { rows, cols, q: new Int8Array(rows * cols), scale: new Float64Array(rows) }
}

/**
 * Quantize rows [fromRow, fromRow + rows) of `dst` in place from `w`, whose row `fromRow`
 * starts at `offset` (what {@link quantizeMatrix} does for all rows). Rows are quantized
 * independently, so a matrix done in slices has the bytes of one done at once.
 */
export function quantizeRowsInto (dst: QuantizedMatrix, fromRow: number, rows: number, w: Float32Array | Float64Array, offset: number, gain?: Float32Array, gainOff = 0): void {
  const { cols, q, scale } = dst
  const row = new Float64Array(cols)
  for (let r = 0; r < rows; r++) {
    let amax = 0
    const src = offset + r * cols
    for (let j = 0; j < cols; j++) {
      const v = w[src + j] * (gain === undefined ? 1 : gain[gainOff + j])
      row[j] = v
      const a = Math.abs(v)
      if (a > amax) amax = a
    }
    const s = amax === 0 ? 1 : amax / INT8_MAX
    scale[fromRow + r] = s
    const out = (fromRow + r) * cols
    for (let j = 0; j < cols; j++) q[out + j] = Math.max(-INT8_MAX, Math.min(INT8_MAX, roundHalfAway(row[j] / s)))
  }
}

/**
 * Quantize one activation vector: q = round(x / s) with s = max|x| / 127.
 * Writes into `q` and returns s (1 for an all-zero vector, whose q is all zeros).
 */
export function quantizeActivation (x: Float32Array, q: Int8Array): number {
  let amax = 0
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i])
    if (a > amax) amax = a
  }
  const s = amax === 0 ? 1 : amax / INT8_MAX
  for (let i = 0; i < x.length; i++) q[i] = Math.max(-INT8_MAX, Math.min(INT8_MAX, roundHalfAway(x[i] / s)))
  return s
}

/**
 * acc (rows,) = q (rows, cols) @ x (cols,), exact in integers.
 * |acc| ≤ cols · 127 · 127, which fits int32 for cols < 133,000.
 */
export function matvecInt8 (q: Int8Array, rows: number, cols: number, x: Int8Array, acc: Int32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols
    let a = 0
    for (let j = 0; j < cols; j++) a += q[base + j] * x[j]
    acc[r] = a
  }
}

/** y (rows,) = acc ⊙ scale · xScale — dequantization after an integer matvec. */
export function dequantize (acc: Int32Array, scale: Float64Array, xScale: number, y: Float32Array): void {
  for (let r = 0; r < acc.length; r++) y[r] = acc[r] * (scale[r] * xScale)
}

/** The key of a linear group in {@link W8A8Model.groups} (and of a squeezed group). */
export function groupKey (group: RoundGroup, layer: number): string {
  return `${group}:${layer}`
}

function normBefore (group: LinearGroup): keyof CheckpointWeights | undefined {
  if (group === 'qkv') return 'rmsAtt'
  if (group === 'up') return 'rmsFfn'
  if (group === 'cls') return 'rmsFinal'
  return undefined
}

/** Each linear group's matrices with the gain folded into each (undefined: none), by group key. */
function groupsToQuantize (ckpt: Checkpoint, fold: boolean): Array<{ key: string, mats: MatrixRef[], gain: Float32Array | undefined, gainOff: number }> {
  const c: ModelConfig = ckpt.config
  return linearGroups(c).map(({ group, layer }) => {
    const norm = fold ? normBefore(group) : undefined
    return { key: groupKey(group, layer), mats: groupMatrices(c, group, layer), gain: norm === undefined ? undefined : ckpt.weights[norm], gainOff: group === 'cls' ? 0 : layer * c.dim }
  })
}

/** Quantize every linear layer of a checkpoint. */
export function quantizeModel (ckpt: Checkpoint, opts: QuantizeOptions = {}): W8A8Model {
  const fold = opts.foldNorms ?? true
  const w = ckpt.weights
  const groups = new Map<string, QuantizedMatrix[]>()
  for (const { key, mats, gain, gainOff } of groupsToQuantize(ckpt, fold)) groups.set(key, mats.map(m => quantizeMatrix(w[m.tensor], m.offset, m.rows, m.cols, gain, gainOff)))
  return { params: quantizedParams(ckpt, fold), groups, foldedNorms: fold }
}

/** Weights quantized between two yields of {@link quantizeModelAsync} (~10–20 ms of JavaScript here). */
export const QUANTIZE_SLICE_WEIGHTS = 2 ** 19

/**
 * {@link quantizeModel} with the event loop running between slices of rows (a donor's tab
 * quantizes a 768-dim model's ~110 M weights: seconds). Rows are quantized independently,
 * so the bytes are {@link quantizeModel}'s.
 */
export async function quantizeModelAsync (ckpt: Checkpoint, opts: QuantizeOptions = {}, sliceWeights = QUANTIZE_SLICE_WEIGHTS): Promise<W8A8Model> {
  const fold = opts.foldNorms ?? true
  const w = ckpt.weights
  const groups = new Map<string, QuantizedMatrix[]>()
  for (const { key, mats: refs, gain, gainOff } of groupsToQuantize(ckpt, fold)) {
    const mats: QuantizedMatrix[] = []
    for (const m of refs) {
      const out = emptyQuantized(m.rows, m.cols)
      const slice = Math.max(1, Math.floor(sliceWeights / m.cols))
      for (let r = 0; r < m.rows; r += slice) {
        quantizeRowsInto(out, r, Math.min(slice, m.rows - r), w[m.tensor], m.offset + r * m.cols, gain, gainOff)
        await yieldToLoop()
      }
      mats.push(out)
    }
    groups.set(key, mats)
  }
  return { params: quantizedParams(ckpt, fold), groups, foldedNorms: fold }
}

/**
 * The forward pass's parameters of a quantized model: the checkpoint's embedding, and its
 * RMSNorm gains — or ones where they were folded into the matrices (`fold`).
 */
export function quantizedParams (ckpt: Checkpoint, fold: boolean): TransformerParams {
  const w = ckpt.weights
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1)
  return {
    config: ckpt.config,
    tokenEmbedding: w.tokenEmbedding,
    rmsAtt: fold ? ones(w.rmsAtt.length) : w.rmsAtt,
    rmsFfn: fold ? ones(w.rmsFfn.length) : w.rmsFfn,
    rmsFinal: fold ? ones(w.rmsFinal.length) : w.rmsFinal
  }
}

/** The plaintext W8A8 backend: quantize each group's input once, integer matvecs, dequantize. */
export function w8a8Backend (model: W8A8Model): LinearBackendSync {
  const c = model.params.config
  const maxCols = Math.max(c.dim, c.hiddenDim)
  const maxRows = Math.max(c.dim, c.hiddenDim, c.vocabSize)
  const xq = new Int8Array(maxCols)
  const acc = new Int32Array(maxRows)
  return {
    run (req: LinearRequest): void {
      const mats = model.groups.get(groupKey(req.group, req.layer))
      if (mats === undefined) throw new RangeError(`no linear group ${req.group} in layer ${req.layer}`)
      const x = xq.subarray(0, req.input.length)
      const xScale = quantizeActivation(req.input, x)
      for (let i = 0; i < mats.length; i++) {
        const m = mats[i]
        const a = acc.subarray(0, m.rows)
        matvecInt8(m.q, m.rows, m.cols, x, a)
        dequantize(a, m.scale, xScale, req.outputs[i])
      }
    }
  }
}
