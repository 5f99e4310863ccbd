/**
 * Running a squeezed group: quantize its input once, one integer matvec per matrix (in
 * the clear, or encrypted — the caller decides), dequantize into the request's outputs.
 * The plaintext and the encrypted backends share this code, so "same integer results ⇒
 * same outputs" holds by construction.
 */
import type { LinearRequest } from '../model/forward.ts'
import { matvecInt8, quantizeActivation, type QuantizedMatrix } from '../model/w8a8.ts'
import type { SqueezedGroup } from '../squeeze/squeeze.ts'

/** The integer matvec of matrix `index` of a group on the quantized input. */
export type IntMatvec = (group: SqueezedGroup, index: number, xq: Int8Array) => Promise<Int32Array> | Int32Array

/** y (rows,) in the clear: the plaintext twin. */
export function plainIntMatvec (m: QuantizedMatrix, xq: Int8Array): Int32Array {
  const acc = new Int32Array(m.rows)
  matvecInt8(m.q, m.rows, m.cols, xq, acc)
  return acc
}

/** Compute one group with `matvec` for its integer products. */
export async function runQuantizedGroup (g: SqueezedGroup, req: LinearRequest, matvec: IntMatvec): Promise<void> {
  const xq = new Int8Array(req.input.length)
  const xScale = quantizeActivation(req.input, xq)
  let out = 0
  for (let i = 0; i < g.matrices.length; i++) {
    const m = g.matrices[i]
    const acc = await matvec(g, i, xq)
    // Split the matrix's rows over the request's outputs, dequantizing.
    let row = 0
    for (const rows of g.outputRows[i]) {
      const y = req.outputs[out++]
      for (let r = 0; r < rows; r++) y[r] = acc[row + r] * (m.scale[row + r] * xScale)
      row += rows
    }
  }
}
