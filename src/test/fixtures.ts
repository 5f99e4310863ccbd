/**
 * Test fixtures, outside src/core (which stays pure): the real stories260K files (read
 * from the model directory, never copied into the project), tiny synthetic checkpoints
 * built in memory, and seeded int8 data for the HE suites.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { defaultModelDir, DEFAULT_MODEL_FILES } from '../node/model-files.ts'
import { prng } from '../core/prng.ts'

/** The bytes of the default model and tokenizer. */
export function stories260K (): { model: Uint8Array, tokenizer: Uint8Array } {
  const dir = defaultModelDir()
  return {
    model: new Uint8Array(readFileSync(join(dir, DEFAULT_MODEL_FILES.checkpoint))),
    tokenizer: new Uint8Array(readFileSync(join(dir, DEFAULT_MODEL_FILES.tokenizer)))
  }
}

/** Header fields of a synthetic checkpoint. */
export interface SyntheticShape {
  dim: number
  hiddenDim: number
  nLayers: number
  nHeads: number
  nKvHeads: number
  vocabSize: number
  seqLen: number
  shared: boolean
}

/** The seeded PRNG the tests use (mulberry32). */
export { prng }

/** A valid version-0 checkpoint with seeded random weights in [-0.5, 0.5). */
export function syntheticCheckpoint (s: SyntheticShape, seed = 1): Uint8Array {
  const headSize = s.dim / s.nHeads
  const kvDim = s.nKvHeads * headSize
  const L = s.nLayers
  const floats = s.vocabSize * s.dim + L * s.dim + L * s.dim * s.dim + 2 * L * kvDim * s.dim + L * s.dim * s.dim +
    L * s.dim + 3 * L * s.hiddenDim * s.dim + s.dim + s.seqLen * headSize + (s.shared ? 0 : s.vocabSize * s.dim)
  const bytes = new Uint8Array(28 + 4 * floats)
  const dv = new DataView(bytes.buffer)
  ;[s.dim, s.hiddenDim, s.nLayers, s.nHeads, s.nKvHeads, s.shared ? s.vocabSize : -s.vocabSize, s.seqLen].forEach((v, i) => dv.setInt32(4 * i, v, true))
  const rand = prng(seed)
  for (let i = 0; i < floats; i++) dv.setFloat32(28 + 4 * i, rand() - 0.5, true)
  return bytes
}

/** A tokenizer file with the given pieces and scores. */
export function syntheticTokenizer (pieces: Array<[string | Uint8Array, number]>, maxLen = 16): Uint8Array {
  const enc = pieces.map(([p, s]) => [typeof p === 'string' ? new TextEncoder().encode(p) : p, s] as const)
  const size = 4 + enc.reduce((n, [p]) => n + 8 + p.length, 0)
  const out = new Uint8Array(size)
  const dv = new DataView(out.buffer)
  dv.setInt32(0, maxLen, true)
  let off = 4
  for (const [p, s] of enc) {
    dv.setFloat32(off, s, true)
    dv.setInt32(off + 4, p.length, true)
    out.set(p, off + 8)
    off += 8 + p.length
  }
  return out
}

/** Seeded int8 data: random, all ±127, all zero, or 5 % non-zero. */
export function randomInt8 (n: number, rand: () => number, kind: 'random' | 'extreme' | 'zero' | 'sparse' = 'random'): Int8Array {
  const a = new Int8Array(n)
  for (let i = 0; i < n; i++) {
    if (kind === 'zero') a[i] = 0
    else if (kind === 'extreme') a[i] = rand() < 0.5 ? -127 : 127
    else if (kind === 'sparse') a[i] = rand() < 0.05 ? Math.floor(rand() * 255) - 127 : 0
    else a[i] = Math.floor(rand() * 255) - 127
  }
  return a
}
