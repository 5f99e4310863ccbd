/**
 * A llama GGUF file → the {@link Checkpoint} every engine runs (the same shape as a
 * llama2.c checkpoint: config + float32 weights), so that the plan, the encrypted
 * pipeline and the miners work on a GGUF model exactly as on a `.bin`.
 *
 * Tensor names (llama.cpp `LLM_ARCH_LLAMA`): token_embd, blk.N.{attn_norm, attn_q, attn_k,
 * attn_v, attn_output, ffn_norm, ffn_gate, ffn_down, ffn_up}, output_norm, output (absent
 * when the classifier is tied to the embedding). ffn_gate is llama2.c's w1 (the SiLU
 * branch), ffn_up its w3, ffn_down its w2.
 *
 * RoPE layout: llama.cpp's converters permute Hugging Face q/k rows so that llama.cpp's
 * LLAMA_ROPE_TYPE_NORM rotates adjacent pairs, which is what forward.ts does; so GGUF
 * weights are used as they are (measured, issue 15: llama2.c weights written unpermuted
 * reproduce run.c's text in llama.cpp).
 *
 * What the forward pass does not compute is refused with {@link UnsupportedModelError}:
 * other architectures (Qwen2's q/k/v biases, NEOX RoPE and ε = 1e-6 are three changes to
 * the forward pass and the encrypted plan, so qwen2 is refused, not half-run), RoPE scaling,
 * partial RoPE, mixture of experts, an RMSNorm ε other than 1e-5, extra tensors.
 */
import { MODEL_LIMITS, type Checkpoint, type CheckpointWeights, type ModelConfig } from './checkpoint.ts'
import { GgufFormatError, UnsupportedModelError } from './errors.ts'
import type { GgufFile, GgufTensorInfo } from './gguf.ts'
import { metaNumber, metaString, metaUint, required } from './gguf-metadata.ts'
import { readTensorF32 } from './gguf-tensors.ts'

/** The architecture Cerberus runs. */
export const SUPPORTED_ARCHITECTURE = 'llama'
/** RoPE base when `llama.rope.freq_base` is absent (llama.cpp's default). */
const DEFAULT_ROPE_THETA = 10000
/** The RMSNorm ε forward.ts uses (run.c's); other values are refused, not approximated. */
const FORWARD_NORM_EPS = Math.fround(1e-5)

/** Options of {@link ggufCheckpoint}. */
export interface GgufCheckpointOptions {
  /**
   * Cap on the context (and so the KV cache) below the model's `context_length`: SmolLM2's
   * 8192 positions need 2 × 30 × 8192 × 192 floats = 377 MB of KV cache per sequence.
   */
  readonly maxContext?: number
}

const bad = (message: string): GgufFormatError => new GgufFormatError(`not a valid llama model: ${message}`)

function checkRange (name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw bad(`${name} = ${v} is outside [${min}, ${max}]`)
}

/** Read the llama.* hyper-parameters and refuse what the forward pass does not compute. */
function readConfig (file: GgufFile, vocabSize: number, tied: boolean, maxContext: number | undefined): ModelConfig {
  const m = file.metadata
  const key = (k: string): string => `${SUPPORTED_ARCHITECTURE}.${k}`
  const headCountValue = m.get(key('attention.head_count'))
  if (headCountValue?.type === 'array') throw new UnsupportedModelError('the model has a different number of attention heads per layer; Cerberus runs models whose layers all have the same shape')
  const dim = required(m, key('embedding_length'), metaUint)
  const hiddenDim = required(m, key('feed_forward_length'), metaUint)
  const nLayers = required(m, key('block_count'), metaUint)
  const nHeads = required(m, key('attention.head_count'), metaUint)
  const nKvHeads = metaUint(m, key('attention.head_count_kv')) ?? nHeads
  const contextLength = required(m, key('context_length'), metaUint)
  checkRange('embedding_length', dim, 1, MODEL_LIMITS.maxDim)
  checkRange('feed_forward_length', hiddenDim, 1, MODEL_LIMITS.maxHidden)
  checkRange('block_count', nLayers, 1, MODEL_LIMITS.maxLayers)
  checkRange('attention.head_count', nHeads, 1, dim)
  checkRange('attention.head_count_kv', nKvHeads, 1, nHeads)
  checkRange('vocabulary size', vocabSize, 1, MODEL_LIMITS.maxVocab)
  checkRange('context_length', contextLength, 1, MODEL_LIMITS.maxSeqLen)
  if (dim % nHeads !== 0) throw bad(`embedding_length ${dim} is not a multiple of head_count ${nHeads}`)
  if (nHeads % nKvHeads !== 0) throw bad(`head_count ${nHeads} is not a multiple of head_count_kv ${nKvHeads}`)
  const headSize = dim / nHeads
  if (headSize % 2 !== 0) throw bad(`head size ${headSize} is odd (RoPE rotates pairs)`)
  for (const k of ['attention.key_length', 'attention.value_length']) {
    const v = metaUint(m, key(k))
    if (v !== undefined && v !== headSize) throw new UnsupportedModelError(`${key(k)} is ${v}, not embedding_length / head_count = ${headSize}; Cerberus runs models whose head size is dim / heads`)
  }
  const ropeDims = metaUint(m, key('rope.dimension_count'))
  if (ropeDims !== undefined && ropeDims !== headSize) throw new UnsupportedModelError(`the model rotates ${ropeDims} of each head's ${headSize} dimensions (partial RoPE); Cerberus's forward pass rotates them all`)
  const scaling = metaString(m, key('rope.scaling.type'))
  const factor = metaNumber(m, key('rope.scaling.factor'))
  if ((scaling !== undefined && scaling !== 'none') || (factor !== undefined && factor !== 0 && factor !== 1)) {
    throw new UnsupportedModelError(`the model uses RoPE scaling (${scaling ?? 'type unset'}, factor ${factor ?? 'unset'}); Cerberus's forward pass has plain RoPE only — use a model without rope scaling`)
  }
  const experts = metaUint(m, key('expert_count')) ?? 0
  if (experts > 0) throw new UnsupportedModelError(`the model is a mixture of ${experts} experts; Cerberus runs dense models`)
  const eps = metaNumber(m, key('attention.layer_norm_rms_epsilon'))
  if (eps !== undefined && Math.fround(eps) !== FORWARD_NORM_EPS) throw new UnsupportedModelError(`the model's RMSNorm epsilon is ${eps}; Cerberus's forward pass uses 1e-5`)
  const theta = metaNumber(m, key('rope.freq_base')) ?? DEFAULT_ROPE_THETA
  if (!Number.isFinite(theta) || theta <= 1) throw bad(`rope.freq_base = ${theta} is not a RoPE base (> 1)`)
  const declaredVocab = metaUint(m, key('vocab_size'))
  if (declaredVocab !== undefined && declaredVocab !== vocabSize) throw bad(`vocab_size is ${declaredVocab} but token_embd has ${vocabSize} rows`)
  if (maxContext !== undefined) checkRange('maxContext', maxContext, 1, MODEL_LIMITS.maxSeqLen)
  return {
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize,
    seqLen: Math.min(contextLength, maxContext ?? contextLength),
    sharedClassifier: tied,
    headSize,
    kvDim: nKvHeads * headSize,
    ...(theta === DEFAULT_ROPE_THETA ? {} : { ropeTheta: theta })
  }
}

/**
 * The checkpoint of a llama GGUF file: hyper-parameters from the `llama.*` keys, weights
 * dequantized to float32 (a copy; the file's bytes may be dropped afterwards).
 *
 * @throws {UnsupportedModelError} for another architecture, RoPE scaling, partial RoPE,
 *   experts, another RMSNorm ε, extra tensors (biases) or a tensor type Cerberus does not read.
 * @throws {GgufFormatError} for a missing key or tensor, a wrong shape, a non-finite weight.
 */
export function ggufCheckpoint (file: GgufFile, opts: GgufCheckpointOptions = {}): Checkpoint {
  const arch = required(file.metadata, 'general.architecture', metaString)
  if (arch !== SUPPORTED_ARCHITECTURE) {
    throw new UnsupportedModelError(`the model's architecture is "${arch}"; Cerberus runs general.architecture = "llama" (Llama 2/3-style models such as SmolLM2, TinyLlama, stories*)${arch === 'qwen2' ? ' — Qwen2 needs q/k/v biases, NEOX RoPE and ε = 1e-6, which the forward pass does not have' : ''}`)
  }
  const byName = new Map(file.tensors.map(t => [t.name, t]))
  const used = new Set<string>()
  const tensor = (name: string, dims: readonly number[]): GgufTensorInfo => {
    const t = byName.get(name)
    if (t === undefined) throw bad(`the file has no tensor "${name}"`)
    if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) throw bad(`tensor "${name}" has shape [${t.dims.join(', ')}], expected [${dims.join(', ')}]`)
    used.add(name)
    return t
  }
  const embdInfo = byName.get('token_embd.weight')
  if (embdInfo === undefined) throw bad('the file has no tensor "token_embd.weight"')
  if (embdInfo.dims.length !== 2) throw bad(`tensor "token_embd.weight" has ${embdInfo.dims.length} dimensions, expected 2`)
  const tied = !byName.has('output.weight')
  const c = readConfig(file, embdInfo.dims[1], tied, opts.maxContext)
  const { dim, kvDim, hiddenDim, nLayers: L, vocabSize } = c
  const read = (name: string, dims: readonly number[]): Float32Array => readTensorF32(file, tensor(name, dims))
  const stacked = (suffix: string, dims: readonly number[]): Float32Array => {
    const n = dims.reduce((a, b) => a * b, 1)
    const out = new Float32Array(L * n)
    for (let l = 0; l < L; l++) out.set(read(`blk.${l}.${suffix}`, dims), l * n)
    return out
  }
  const tokenEmbedding = read('token_embd.weight', [dim, vocabSize])
  const weights: CheckpointWeights = {
    tokenEmbedding,
    rmsAtt: stacked('attn_norm.weight', [dim]),
    wq: stacked('attn_q.weight', [dim, dim]),
    wk: stacked('attn_k.weight', [dim, kvDim]),
    wv: stacked('attn_v.weight', [dim, kvDim]),
    wo: stacked('attn_output.weight', [dim, dim]),
    rmsFfn: stacked('ffn_norm.weight', [dim]),
    w1: stacked('ffn_gate.weight', [dim, hiddenDim]),
    w2: stacked('ffn_down.weight', [hiddenDim, dim]),
    w3: stacked('ffn_up.weight', [dim, hiddenDim]),
    rmsFinal: read('output_norm.weight', [dim]),
    wcls: tied ? tokenEmbedding : read('output.weight', [dim, vocabSize])
  }
  const extra = file.tensors.filter(t => !used.has(t.name)).map(t => t.name)
  if (extra.length > 0) {
    const biases = extra.some(n => n.endsWith('.bias'))
    throw new UnsupportedModelError(`the model has tensors the llama forward pass does not use: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ` and ${extra.length - 5} more` : ''}${biases ? ' (linear-layer biases are not supported)' : ''}`)
  }
  return { config: c, weights }
}
