/**
 * The llama2.c checkpoint format ("version 0", the legacy export of karpathy/llama2.c),
 * parsed and validated.
 *
 * Layout (all little-endian): 7 × int32 header — dim, hidden_dim, n_layers, n_heads,
 * n_kv_heads, vocab_size, seq_len — then float32 arrays in this order: token_embedding
 * (vocab, dim), rms_att (layers, dim), wq (layers, dim, dim), wk (layers, kv_dim, dim),
 * wv (layers, kv_dim, dim), wo (layers, dim, dim), rms_ffn (layers, dim), w1 (layers,
 * hidden, dim), w2 (layers, dim, hidden), w3 (layers, hidden, dim), rms_final (dim,),
 * two legacy RoPE tables (seq_len, head_size/2) each, unused, and — only when vocab_size
 * is negative — a separate classifier (vocab, dim). Matrices are [out][in], y = W·x.
 * Source: karpathy/llama2.c run.c `memory_map_weights`, export.py `legacy_export`.
 */
import { ModelFormatError } from './errors.ts'

/** Hyper-parameters of a Llama-2-style transformer, plus the derived sizes. */
export interface ModelConfig {
  /** Residual stream width. */
  readonly dim: number
  /** FFN inner width. */
  readonly hiddenDim: number
  readonly nLayers: number
  /** Query heads. */
  readonly nHeads: number
  /** Key/value heads (grouped-query attention when < nHeads). */
  readonly nKvHeads: number
  readonly vocabSize: number
  /** Longest context the model was trained for (and the KV cache length). */
  readonly seqLen: number
  /** True when the classifier is the token embedding (vocab_size > 0 in the header). */
  readonly sharedClassifier: boolean
  /** dim / nHeads. */
  readonly headSize: number
  /** nKvHeads · headSize: width of k and v. */
  readonly kvDim: number
  /**
   * RoPE base frequency θ. Absent means 10000 (llama2.c, Llama 2); GGUF models may set
   * another (`llama.rope.freq_base`; SmolLM2 uses 100000).
   */
  readonly ropeTheta?: number
}

/** The RoPE base a config asks for (10000 when it does not say). */
export function ropeTheta (c: ModelConfig): number {
  return c.ropeTheta ?? 10000
}

/** The float32 tensors of a checkpoint, as views of one buffer. Shapes are [out][in]. */
export interface CheckpointWeights {
  /** (vocab, dim) */
  readonly tokenEmbedding: Float32Array
  /** (layers, dim) */
  readonly rmsAtt: Float32Array
  /** (layers, dim, dim) */
  readonly wq: Float32Array
  /** (layers, kvDim, dim) */
  readonly wk: Float32Array
  /** (layers, kvDim, dim) */
  readonly wv: Float32Array
  /** (layers, dim, dim) */
  readonly wo: Float32Array
  /** (layers, dim) */
  readonly rmsFfn: Float32Array
  /** (layers, hidden, dim) */
  readonly w1: Float32Array
  /** (layers, dim, hidden) */
  readonly w2: Float32Array
  /** (layers, hidden, dim) */
  readonly w3: Float32Array
  /** (dim,) */
  readonly rmsFinal: Float32Array
  /** (vocab, dim) — the same array as tokenEmbedding when the classifier is shared. */
  readonly wcls: Float32Array
}

/** A parsed, validated model. */
export interface Checkpoint {
  readonly config: ModelConfig
  readonly weights: CheckpointWeights
}

const HEADER_BYTES = 7 * 4
/** Magic of llama2.c's newer export formats (version 1 and 2): "ak42" as a LE uint32. */
const NEW_FORMAT_MAGIC = 0x616b3432
/**
 * Upper bounds on header fields. They exist so that a random file is rejected with a
 * message instead of an attempt to allocate terabytes; they are far above any model a
 * browser can run (Llama-2-70B has dim 8192, 80 layers, hidden 28672, vocab 32000).
 */
const MAX_DIM = 1 << 16
const MAX_HIDDEN = 1 << 18
const MAX_LAYERS = 1 << 10
const MAX_VOCAB = 1 << 20
const MAX_SEQ_LEN = 1 << 20

/** The header bounds above, for other model formats to apply the same limits. */
export const MODEL_LIMITS = Object.freeze({ maxDim: MAX_DIM, maxHidden: MAX_HIDDEN, maxLayers: MAX_LAYERS, maxVocab: MAX_VOCAB, maxSeqLen: MAX_SEQ_LEN })

function checkRange (name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ModelFormatError(`not a llama2.c checkpoint: header field ${name} = ${value} is outside [${min}, ${max}]`)
  }
}

/**
 * Validate the 7-field header and derive the sizes.
 * @throws {ModelFormatError} when a field is impossible.
 */
export function parseConfig (header: Int32Array): ModelConfig {
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, rawVocab, seqLen] = header as unknown as number[]
  checkRange('dim', dim, 1, MAX_DIM)
  checkRange('hidden_dim', hiddenDim, 1, MAX_HIDDEN)
  checkRange('n_layers', nLayers, 1, MAX_LAYERS)
  checkRange('n_heads', nHeads, 1, dim)
  checkRange('n_kv_heads', nKvHeads, 1, nHeads)
  checkRange('|vocab_size|', Math.abs(rawVocab), 1, MAX_VOCAB)
  checkRange('seq_len', seqLen, 1, MAX_SEQ_LEN)
  if (dim % nHeads !== 0) throw new ModelFormatError(`not a llama2.c checkpoint: dim ${dim} is not a multiple of n_heads ${nHeads}`)
  if (nHeads % nKvHeads !== 0) throw new ModelFormatError(`not a llama2.c checkpoint: n_heads ${nHeads} is not a multiple of n_kv_heads ${nKvHeads}`)
  const headSize = dim / nHeads
  if (headSize % 2 !== 0) throw new ModelFormatError(`not a llama2.c checkpoint: head size ${headSize} is odd (RoPE rotates pairs)`)
  return {
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize: Math.abs(rawVocab),
    seqLen,
    sharedClassifier: rawVocab > 0,
    headSize,
    kvDim: nKvHeads * headSize
  }
}

/** Float32 counts of every tensor in file order (including the unused RoPE tables). */
function tensorSizes (c: ModelConfig): Array<[keyof CheckpointWeights | 'ropeTables', number]> {
  const L = c.nLayers
  const sizes: Array<[keyof CheckpointWeights | 'ropeTables', number]> = [
    ['tokenEmbedding', c.vocabSize * c.dim],
    ['rmsAtt', L * c.dim],
    ['wq', L * c.dim * c.dim],
    ['wk', L * c.kvDim * c.dim],
    ['wv', L * c.kvDim * c.dim],
    ['wo', L * c.dim * c.dim],
    ['rmsFfn', L * c.dim],
    ['w1', L * c.hiddenDim * c.dim],
    ['w2', L * c.dim * c.hiddenDim],
    ['w3', L * c.hiddenDim * c.dim],
    ['rmsFinal', c.dim],
    ['ropeTables', c.seqLen * c.headSize]
  ]
  if (!c.sharedClassifier) sizes.push(['wcls', c.vocabSize * c.dim])
  return sizes
}

/** The exact byte length a version-0 checkpoint with this config must have. */
export function expectedCheckpointBytes (config: ModelConfig): number {
  return HEADER_BYTES + 4 * tensorSizes(config).reduce((sum, [, n]) => sum + n, 0)
}

/** True on little-endian hosts (every browser and Node platform we target). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

function floatView (bytes: Uint8Array, offset: number, count: number): Float32Array {
  const start = bytes.byteOffset + offset
  if (LITTLE_ENDIAN && start % 4 === 0) return new Float32Array(bytes.buffer, start, count)
  // Unaligned or big-endian: decode into a fresh array.
  const out = new Float32Array(count)
  const view = new DataView(bytes.buffer, start, count * 4)
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true)
  return out
}

/**
 * Parse a llama2.c version-0 checkpoint. The returned tensors are views of `bytes` (no
 * copy) when it is 4-byte aligned, so keep `bytes` unmodified while the model is in use.
 *
 * @throws {ModelFormatError} for an empty, truncated or oversized file, an impossible
 *   header, the newer (version 1/2) export formats, or a non-finite weight.
 */
export function parseCheckpoint (bytes: Uint8Array): Checkpoint {
  if (bytes.byteLength < HEADER_BYTES) {
    throw new ModelFormatError(`not a llama2.c checkpoint: the file has ${bytes.byteLength} bytes, fewer than the ${HEADER_BYTES}-byte header`)
  }
  const header = new Int32Array(7)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES)
  for (let i = 0; i < 7; i++) header[i] = dv.getInt32(i * 4, true)
  if ((header[0] >>> 0) === NEW_FORMAT_MAGIC) {
    throw new ModelFormatError(`unsupported checkpoint: llama2.c export format version ${header[1]} (magic "ak42"); export the model with llama2.c's export.py --version 0 (the legacy float32 format)`)
  }
  const config = parseConfig(header)
  const expected = expectedCheckpointBytes(config)
  if (bytes.byteLength !== expected) {
    const what = bytes.byteLength < expected ? 'truncated' : 'longer than its header says'
    throw new ModelFormatError(`not a valid llama2.c checkpoint: the file is ${what} — ${bytes.byteLength} bytes, but dim ${config.dim}, hidden_dim ${config.hiddenDim}, n_layers ${config.nLayers}, n_heads ${config.nHeads}, n_kv_heads ${config.nKvHeads}, vocab_size ${config.vocabSize}${config.sharedClassifier ? '' : ' (separate classifier)'}, seq_len ${config.seqLen} need exactly ${expected}`)
  }
  const tensors: Partial<Record<keyof CheckpointWeights, Float32Array>> = {}
  let offset = HEADER_BYTES
  for (const [name, count] of tensorSizes(config)) {
    if (name !== 'ropeTables') {
      const t = floatView(bytes, offset, count)
      for (let i = 0; i < count; i++) {
        if (!Number.isFinite(t[i])) throw new ModelFormatError(`not a valid llama2.c checkpoint: tensor ${name} has a non-finite value (${t[i]}) at index ${i}`)
      }
      tensors[name] = t
    }
    offset += 4 * count
  }
  if (config.sharedClassifier) tensors.wcls = tensors.tokenEmbedding
  return { config, weights: tensors as CheckpointWeights }
}
