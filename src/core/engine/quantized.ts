/**
 * Running a squeezed group: quantize each of its input vectors on its own (one dynamic
 * int8 scale per vector), one integer matvec per matrix over all of them (in the clear,
 * or encrypted — the caller decides), dequantize into the request's outputs. The
 * plaintext and the encrypted backends share this code, so "same integer results ⇒ same
 * outputs" holds by construction, for one vector or a batch.
 */
import type { BatchRequest } from '../model/forward.ts'
import { matvecInt8, quantizeActivation, type QuantizedMatrix } from '../model/w8a8.ts'
import type { SqueezedGroup } from '../squeeze/squeeze.ts'

/**
 * The integer matvecs of matrix `index` of a group on each quantized input vector
 * (several vectors: one per position of a batch, results in the same order).
 */
export type IntMatvec = (group: SqueezedGroup, index: number, xqs: readonly Int8Array[]) => Promise<Int32Array[]> | Int32Array[]

/** The same, synchronously (the plaintext twin driven by a synchronous engine). */
export type IntMatvecSync = (group: SqueezedGroup, index: number, xqs: readonly Int8Array[]) => Int32Array[]

/** What an integer matvec needs of a quantized matrix: its shape and int8 weights (row-major). */
export type IntMatrix = Pick<QuantizedMatrix, 'rows' | 'cols' | 'q'>

/** y (rows,) in the clear: the plaintext twin. */
export function plainIntMatvec (m: IntMatrix, xq: Int8Array): Int32Array {
  const acc = new Int32Array(m.rows)
  matvecInt8(m.q, m.rows, m.cols, xq, acc)
  return acc
}

/** The plaintext twin of a matrix over several vectors. */
export function plainIntMatvecs (g: SqueezedGroup, index: number, xqs: readonly Int8Array[]): Int32Array[] {
  return xqs.map(xq => plainIntMatvec(g.matrices[index], xq))
}

interface Quantized { readonly xqs: Int8Array[], readonly scales: Float64Array }

// xqs[t] (cols,) = round(input[t] / scale[t]), one scale per vector
function quantizeInputs (req: BatchRequest): Quantized {
  const cols = req.input.length / req.batch
  const xqs: Int8Array[] = []
  const scales = new Float64Array(req.batch)
  for (let t = 0; t < req.batch; t++) {
    const xq = new Int8Array(cols)
    scales[t] = quantizeActivation(req.input.subarray(t * cols, (t + 1) * cols), xq)
    xqs.push(xq)
  }
  return { xqs, scales }
}

// Split matrix i's rows over the request's outputs (from output `first` on), dequantizing
// each vector with its own scale. Returns the index of the next output.
function dequantizeInto (g: SqueezedGroup, i: number, req: BatchRequest, q: Quantized, accs: readonly Int32Array[], first: number): number {
  const m = g.matrices[i]
  let out = first
  let row = 0
  for (const rows of g.outputRows[i]) {
    const y = req.outputs[out++]
    for (let t = 0; t < req.batch; t++) {
      const acc = accs[t]
      const s = q.scales[t]
      const o = t * rows
      for (let r = 0; r < rows; r++) y[o + r] = acc[row + r] * (m.scale[row + r] * s)
    }
    row += rows
  }
  return out
}

/** Compute one group (all its vectors) with `matvec` for its integer products. */
export async function runQuantizedGroup (g: SqueezedGroup, req: BatchRequest, matvec: IntMatvec): Promise<void> {
  const q = quantizeInputs(req)
  // Every matrix of the group is independent: ask for all at once (one round trip).
  const accs = await Promise.all(g.matrices.map(async (_, i) => await matvec(g, i, q.xqs)))
  let out = 0
  for (let i = 0; i < g.matrices.length; i++) out = dequantizeInto(g, i, req, q, accs[i], out)
}

/** {@link runQuantizedGroup}, synchronously. */
export function runQuantizedGroupSync (g: SqueezedGroup, req: BatchRequest, matvec: IntMatvecSync): void {
  const q = quantizeInputs(req)
  let out = 0
  for (let i = 0; i < g.matrices.length; i++) out = dequantizeInto(g, i, req, q, matvec(g, i, q.xqs), out)
}
