/**
 * The forward pass's state and its O(d) operations: activations, the KV cache, RMSNorm,
 * RoPE and causal attention for one position. forward.ts composes them into the layer
 * order; keeping them here lets the one-token and the batched pass share every float
 * operation, so both give bit-identical results per position.
 *
 * Numerics: float32 storage with float64 temporaries (fast, not bit-exact to run.c; the
 * exact reference is forward-exact.ts).
 */
import { ropeTheta, type ModelConfig } from './checkpoint.ts'

/** Activations and the KV cache of one sequence. */
export interface RunState {
  readonly x: Float32Array
  readonly xb: Float32Array
  readonly xb2: Float32Array
  readonly hb: Float32Array
  readonly hb2: Float32Array
  readonly q: Float32Array
  readonly k: Float32Array
  readonly v: Float32Array
  /** (layers, seqLen, kvDim) */
  readonly keyCache: Float32Array
  /** (layers, seqLen, kvDim) */
  readonly valueCache: Float32Array
  readonly att: Float64Array
  readonly logits: Float32Array
  /** RoPE inverse frequencies per pair within a head: (headSize/2,) */
  readonly invFreq: Float64Array
}

/** Fresh, zeroed run state for a model. Memory: 2·layers·seqLen·kvDim floats of KV cache. */
export function createRunState (c: ModelConfig): RunState {
  const invFreq = new Float64Array(c.headSize / 2)
  const theta = ropeTheta(c)
  for (let i = 0; i < invFreq.length; i++) invFreq[i] = 1 / Math.pow(theta, (2 * i) / c.headSize)
  return {
    x: new Float32Array(c.dim),
    xb: new Float32Array(c.dim),
    xb2: new Float32Array(c.dim),
    hb: new Float32Array(c.hiddenDim),
    hb2: new Float32Array(c.hiddenDim),
    q: new Float32Array(c.dim),
    k: new Float32Array(c.kvDim),
    v: new Float32Array(c.kvDim),
    keyCache: new Float32Array(c.nLayers * c.seqLen * c.kvDim),
    valueCache: new Float32Array(c.nLayers * c.seqLen * c.kvDim),
    att: new Float64Array(c.seqLen),
    logits: new Float32Array(c.vocabSize),
    invFreq
  }
}

/**
 * Activations of T positions at once, each array (T, width) row-major. For T = 1 the
 * arrays are the {@link RunState}'s own, so a one-token pass leaves its state where it
 * always did. The round-fused plan's extra partial products (issue 12) live here too.
 */
export interface BatchBuffers {
  readonly rows: number
  readonly x: Float32Array
  readonly xb: Float32Array
  readonly xb2: Float32Array
  readonly hb: Float32Array
  readonly hb2: Float32Array
  readonly q: Float32Array
  readonly k: Float32Array
  readonly v: Float32Array
  /** Fused plan: (W1·G·Wo)·a and (W3·G·Wo)·a, (T, hidden) each. */
  readonly f1: Float32Array
  readonly f3: Float32Array
  /** Fused plan: the next layer's (Wq|Wk|Wv·G·W2)·m, (T, dim | kvDim | kvDim). */
  readonly gq: Float32Array
  readonly gk: Float32Array
  readonly gv: Float32Array
  /** Fused plan with an encrypted classifier: (Wcls·G·W2)·m of the last position, (vocab,). */
  readonly gcls: Float32Array
}

const buffers = new WeakMap<RunState, BatchBuffers>()

/** Buffers for `rows` positions (kept with the state until another row count is asked for). */
export function batchBuffers (s: RunState, c: ModelConfig, rows: number): BatchBuffers {
  const have = buffers.get(s)
  if (have?.rows === rows) return have
  const own = rows === 1
  const f = (n: number): Float32Array => new Float32Array(rows * n)
  const b: BatchBuffers = {
    rows,
    x: own ? s.x : f(c.dim),
    xb: own ? s.xb : f(c.dim),
    xb2: own ? s.xb2 : f(c.dim),
    hb: own ? s.hb : f(c.hiddenDim),
    hb2: own ? s.hb2 : f(c.hiddenDim),
    q: own ? s.q : f(c.dim),
    k: own ? s.k : f(c.kvDim),
    v: own ? s.v : f(c.kvDim),
    f1: f(c.hiddenDim),
    f3: f(c.hiddenDim),
    gq: f(c.dim),
    gk: f(c.kvDim),
    gv: f(c.kvDim),
    gcls: new Float32Array(c.vocabSize)
  }
  buffers.set(s, b)
  return b
}

// 1 / sqrt(mean(x²) + 1e-5) over x[off, off + n)
export function invRms (x: Float32Array, off: number, n: number): number {
  let ss = 0
  for (let j = 0; j < n; j++) ss += x[off + j] * x[off + j]
  return 1 / Math.sqrt(ss / n + 1e-5)
}

// o (n,) = g (n,) ⊙ x (n,) / sqrt(mean(x²) + 1e-5)
export function rmsnorm (o: Float32Array, x: Float32Array, g: Float32Array, gOff: number, n: number): void {
  rmsnormRow(o, 0, x, 0, g, gOff, n)
}

// o[oOff…] (n,) = g (n,) ⊙ x[xOff…] (n,) / sqrt(mean(x²) + 1e-5); o may be x
export function rmsnormRow (o: Float32Array, oOff: number, x: Float32Array, xOff: number, g: Float32Array, gOff: number, n: number): void {
  const inv = invRms(x, xOff, n)
  for (let j = 0; j < n; j++) o[oOff + j] = g[gOff + j] * (inv * x[xOff + j])
}

/** cos and sin of pos · invFreq[i] for each pair i of a head. */
export function ropeTables (invFreq: Float64Array, pos: number): { cos: Float64Array, sin: Float64Array } {
  const cos = new Float64Array(invFreq.length)
  const sin = new Float64Array(invFreq.length)
  for (let i = 0; i < invFreq.length; i++) {
    cos[i] = Math.cos(pos * invFreq[i])
    sin[i] = Math.sin(pos * invFreq[i])
  }
  return { cos, sin }
}

// Rotate adjacent pairs (v[2i], v[2i+1]) of each head by pos · invFreq[i].
export function rope (v: Float32Array, vOff: number, n: number, headSize: number, cos: Float64Array, sin: Float64Array): void {
  for (let i = 0; i < n; i += 2) {
    const f = (i % headSize) >> 1
    const v0 = v[vOff + i]
    const v1 = v[vOff + i + 1]
    v[vOff + i] = v0 * cos[f] - v1 * sin[f]
    v[vOff + i + 1] = v0 * sin[f] + v1 * cos[f]
  }
}

/**
 * Causal multi-head attention of one position over layer l's cache, [0, pos]:
 * out[outOff…] (dim,) from q[qRow…] (dim,). The cache must hold positions 0 … pos.
 */
export function attend (c: ModelConfig, s: RunState, l: number, pos: number, q: Float32Array, qRow: number, out: Float32Array, outOff: number): void {
  const { kvDim, headSize, seqLen } = c
  const kvMul = c.nHeads / c.nKvHeads
  const scale = 1 / Math.sqrt(headSize)
  const loff = l * seqLen * kvDim
  for (let h = 0; h < c.nHeads; h++) {
    const qOff = qRow + h * headSize
    const kvOff = loff + Math.floor(h / kvMul) * headSize
    let max = -Infinity
    for (let t = 0; t <= pos; t++) {
      const k = kvOff + t * kvDim
      let score = 0
      for (let i = 0; i < headSize; i++) score += q[qOff + i] * s.keyCache[k + i]
      score *= scale
      s.att[t] = score
      if (score > max) max = score
    }
    let sum = 0
    for (let t = 0; t <= pos; t++) {
      const e = Math.exp(s.att[t] - max)
      s.att[t] = e
      sum += e
    }
    for (let i = 0; i < headSize; i++) {
      let acc = 0
      for (let t = 0; t <= pos; t++) acc += s.att[t] * s.valueCache[kvOff + t * kvDim + i]
      out[outOff + h * headSize + i] = acc / sum
    }
  }
}
