/**
 * Synthetic Llama-shaped checkpoints with seeded random weights, for benchmarks at shapes
 * we have no weights for (the HE cost does not depend on the weight values).
 */
import { parseCheckpoint, type Checkpoint, type ModelConfig } from './checkpoint.ts'
import { prng } from '../prng.ts'

/** Header of a synthetic model (the checkpoint header's fields). */
export type SyntheticConfig = Pick<ModelConfig, 'dim' | 'hiddenDim' | 'nLayers' | 'nHeads' | 'nKvHeads' | 'vocabSize' | 'seqLen'>

/** stories110M's shape: 768-dim, 12 layers, 12 heads, hidden 2048, vocab 32000, context 1024. */
export const SYNTHETIC_768X12: SyntheticConfig = Object.freeze({ dim: 768, hiddenDim: 2048, nLayers: 12, nHeads: 12, nKvHeads: 12, vocabSize: 32000, seqLen: 1024 })

/**
 * A version-0 checkpoint (shared classifier) with weights uniform in ±√3·σ (σ = 0.02,
 * GPT-2-style init) and RMSNorm gains of 1, from a seeded generator.
 */
export function syntheticModel (c: SyntheticConfig, seed = 1): Checkpoint {
  return parseCheckpoint(syntheticModelBytes(c, seed))
}

/** The same model as a llama2.c checkpoint file (what a browser downloads in the mesh benchmark). */
export function syntheticModelBytes (c: SyntheticConfig, seed = 1): Uint8Array {
  const headSize = c.dim / c.nHeads
  const kvDim = c.nKvHeads * headSize
  const L = c.nLayers
  const counts = [c.vocabSize * c.dim, L * c.dim, L * c.dim * c.dim, L * kvDim * c.dim, L * kvDim * c.dim, L * c.dim * c.dim, L * c.dim, L * c.hiddenDim * c.dim, L * c.dim * c.hiddenDim, L * c.hiddenDim * c.dim, c.dim, c.seqLen * headSize]
  const floats = counts.reduce((a, b) => a + b, 0)
  const bytes = new Uint8Array(28 + 4 * floats)
  const header = new Int32Array(bytes.buffer, 0, 7)
  header.set([c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.vocabSize, c.seqLen])
  const w = new Float32Array(bytes.buffer, 28, floats)
  const rand = prng(seed)
  const amp = 2 * Math.sqrt(3) * 0.02
  let off = 0
  counts.forEach((n, i) => {
    const isNorm = i === 1 || i === 6 || i === 10
    for (let k = 0; k < n; k++) {
      if (isNorm) { w[off + k] = 1; continue }
      w[off + k] = (rand() - 0.5) * amp
    }
    off += n
  })
  return bytes
}

/**
 * A llama2.c tokenizer file for a synthetic vocabulary: run.c's specials (0 unk, 1 BOS,
 * 2 EOS), the 256 byte-fallback pieces, a space, then "w3", "w4", … up to `vocabSize`.
 * Enough to encode any prompt and print any token.
 */
export function syntheticTokenizerBytes (vocabSize: number): Uint8Array {
  const enc = new TextEncoder()
  const pieces: Uint8Array[] = []
  for (let i = 0; i < vocabSize; i++) {
    let p: string
    if (i === 0) p = '<unk>'
    else if (i === 1) p = '\n<s>\n'
    else if (i === 2) p = '\n</s>\n'
    else if (i < 259) p = `<0x${(i - 3).toString(16).toUpperCase().padStart(2, '0')}>`
    else if (i === 259) p = ' '
    else p = ` w${i}`
    pieces.push(enc.encode(p))
  }
  const maxLen = Math.max(...pieces.map(b => b.length))
  const out = new Uint8Array(4 + pieces.reduce((a, b) => a + 8 + b.length, 0))
  const dv = new DataView(out.buffer)
  dv.setInt32(0, maxLen, true)
  let o = 4
  pieces.forEach((b, i) => {
    dv.setFloat32(o, i < 259 ? 0 : -i, true)
    dv.setInt32(o + 4, b.length, true)
    out.set(b, o + 8)
    o += 8 + b.length
  })
  return out
}
