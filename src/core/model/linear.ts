/**
 * Which checkpoint matrices make up each linear group, and the float32 backend.
 */
import type { Checkpoint, CheckpointWeights, ModelConfig } from './checkpoint.ts'
import type { LinearBackendSync, LinearGroup, LinearRequest } from './forward.ts'

/** A matrix inside a checkpoint tensor: rows × cols, row-major, starting at `offset`. */
export interface MatrixRef {
  readonly tensor: keyof CheckpointWeights
  readonly offset: number
  readonly rows: number
  readonly cols: number
}

/** Every linear group in forward order: 4 per layer, then the classifier. */
export function linearGroups (c: ModelConfig): Array<{ group: LinearGroup, layer: number }> {
  const out: Array<{ group: LinearGroup, layer: number }> = []
  for (let l = 0; l < c.nLayers; l++) {
    for (const group of ['qkv', 'o', 'up', 'down'] as const) out.push({ group, layer: l })
  }
  out.push({ group: 'cls', layer: -1 })
  return out
}

/** The matrices of one group, in the order of the request's outputs. */
export function groupMatrices (c: ModelConfig, group: LinearGroup, layer: number): MatrixRef[] {
  const { dim, kvDim, hiddenDim: hid } = c
  const m = (tensor: keyof CheckpointWeights, rows: number, cols: number): MatrixRef => ({ tensor, offset: layer * rows * cols, rows, cols })
  switch (group) {
    case 'qkv': return [m('wq', dim, dim), m('wk', kvDim, dim), m('wv', kvDim, dim)]
    case 'o': return [m('wo', dim, dim)]
    case 'up': return [m('w1', hid, dim), m('w3', hid, dim)]
    case 'down': return [m('w2', dim, hid)]
    case 'cls': return [{ tensor: 'wcls', offset: 0, rows: c.vocabSize, cols: dim }]
  }
}

// out (rows,) = W (rows, cols) @ x (cols,), W at wOff; float64 accumulation, 4 lanes.
export function matvecF32 (w: Float32Array, wOff: number, rows: number, cols: number, x: Float32Array, out: Float32Array): void {
  const n4 = cols - (cols % 4)
  for (let r = 0; r < rows; r++) {
    const base = wOff + r * cols
    let a0 = 0
    let a1 = 0
    let a2 = 0
    let a3 = 0
    let j = 0
    for (; j < n4; j += 4) {
      a0 += w[base + j] * x[j]
      a1 += w[base + j + 1] * x[j + 1]
      a2 += w[base + j + 2] * x[j + 2]
      a3 += w[base + j + 3] * x[j + 3]
    }
    for (; j < cols; j++) a0 += w[base + j] * x[j]
    out[r] = (a0 + a1) + (a2 + a3)
  }
}

/** The plain float32 backend over a checkpoint's own matrices. */
export function f32Backend (ckpt: Checkpoint): LinearBackendSync {
  return {
    run (req: LinearRequest): void {
      const mats = groupMatrices(ckpt.config, req.group, req.layer)
      for (let i = 0; i < mats.length; i++) {
        const m = mats[i]
        matvecF32(ckpt.weights[m.tensor], m.offset, m.rows, m.cols, req.input, req.outputs[i])
      }
    }
  }
}
