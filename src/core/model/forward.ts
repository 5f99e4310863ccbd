/**
 * The transformer forward pass, written once for every way of computing linear layers.
 *
 * `forwardProgram` is the one function that knows the layer order. It does the cheap,
 * O(dim) parts itself — embedding lookup, RMSNorm, RoPE, attention over its own KV cache,
 * SwiGLU gating, residual adds — and *yields* every linear layer as a {@link LinearRequest}
 * for a backend to fill in: plain float32, plaintext W8A8 integers, or (later) encrypted
 * on miners. A synchronous driver ({@link runForward}) serves in-process backends; an
 * asynchronous one can await remote ones, with the same arithmetic in between, so that
 * "same linear results ⇒ same tokens" holds by construction.
 *
 * Matrices that share an input are requested together (q|k|v, w1|w3): one request, one
 * input, several outputs — the fusion Cerberus Squeezing relies on. Numerics: float32
 * storage with float64 temporaries (fast, not bit-exact to run.c; the exact reference is
 * forward-exact.ts).
 */
import { ropeTheta, type ModelConfig } from './checkpoint.ts'

/** Linear layer groups; each group's matrices share one input vector. */
export type LinearGroup = 'qkv' | 'o' | 'up' | 'down' | 'cls'

/**
 * One linear layer group to compute: `outputs[i] (rows_i,) = W_i (rows_i, cols) @ input`.
 * For 'qkv' the outputs are q, k, v; for 'up' they are w1·x and w3·x; the others have one.
 */
export interface LinearRequest {
  readonly group: LinearGroup
  /** Layer index; -1 for the classifier. */
  readonly layer: number
  readonly input: Float32Array
  readonly outputs: readonly Float32Array[]
}

/** Something that fills in a {@link LinearRequest} synchronously. */
export interface LinearBackendSync {
  run: (req: LinearRequest) => void
}

/** The non-linear parameters the forward pass needs besides the linear layers. */
export interface TransformerParams {
  readonly config: ModelConfig
  /** (vocab, dim) */
  readonly tokenEmbedding: Float32Array
  /** (layers, dim) — all ones when the gains are folded into the following matrices. */
  readonly rmsAtt: Float32Array
  /** (layers, dim) */
  readonly rmsFfn: Float32Array
  /** (dim,) */
  readonly rmsFinal: Float32Array
}

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

// o (n,) = g (n,) ⊙ x (n,) / sqrt(mean(x²) + 1e-5)
export function rmsnorm (o: Float32Array, x: Float32Array, g: Float32Array, gOff: number, n: number): void {
  let ss = 0
  for (let j = 0; j < n; j++) ss += x[j] * x[j]
  const inv = 1 / Math.sqrt(ss / n + 1e-5)
  for (let j = 0; j < n; j++) o[j] = g[gOff + j] * (inv * x[j])
}

// Rotate adjacent pairs (v[2i], v[2i+1]) of each head by pos · invFreq[i].
function rope (v: Float32Array, vOff: number, n: number, headSize: number, cos: Float64Array, sin: Float64Array): void {
  for (let i = 0; i < n; i += 2) {
    const f = (i % headSize) >> 1
    const v0 = v[vOff + i]
    const v1 = v[vOff + i + 1]
    v[vOff + i] = v0 * cos[f] - v1 * sin[f]
    v[vOff + i + 1] = v0 * sin[f] + v1 * cos[f]
  }
}

/**
 * The forward pass for one token as a program that yields its linear layers.
 * Returns the logits (a view of `s.logits`, overwritten by the next call).
 */
export function * forwardProgram (p: TransformerParams, s: RunState, token: number, pos: number): Generator<LinearRequest, Float32Array, void> {
  const c = p.config
  const { dim, kvDim, hiddenDim, headSize, seqLen } = c
  const kvMul = c.nHeads / c.nKvHeads
  const half = headSize / 2
  const cos = new Float64Array(half)
  const sin = new Float64Array(half)
  for (let i = 0; i < half; i++) {
    cos[i] = Math.cos(pos * s.invFreq[i])
    sin[i] = Math.sin(pos * s.invFreq[i])
  }
  const scale = 1 / Math.sqrt(headSize)
  s.x.set(p.tokenEmbedding.subarray(token * dim, (token + 1) * dim))
  for (let l = 0; l < c.nLayers; l++) {
    rmsnorm(s.xb, s.x, p.rmsAtt, l * dim, dim)
    yield { group: 'qkv', layer: l, input: s.xb, outputs: [s.q, s.k, s.v] }
    rope(s.q, 0, dim, headSize, cos, sin)
    rope(s.k, 0, kvDim, headSize, cos, sin)
    const loff = l * seqLen * kvDim
    s.keyCache.set(s.k, loff + pos * kvDim)
    s.valueCache.set(s.v, loff + pos * kvDim)
    for (let h = 0; h < c.nHeads; h++) {
      const qOff = h * headSize
      const kvOff = loff + Math.floor(h / kvMul) * headSize
      let max = -Infinity
      for (let t = 0; t <= pos; t++) {
        const k = kvOff + t * kvDim
        let score = 0
        for (let i = 0; i < headSize; i++) score += s.q[qOff + i] * s.keyCache[k + i]
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
        s.xb[qOff + i] = acc / sum
      }
    }
    yield { group: 'o', layer: l, input: s.xb, outputs: [s.xb2] }
    for (let i = 0; i < dim; i++) s.x[i] += s.xb2[i]
    rmsnorm(s.xb, s.x, p.rmsFfn, l * dim, dim)
    yield { group: 'up', layer: l, input: s.xb, outputs: [s.hb, s.hb2] }
    for (let i = 0; i < hiddenDim; i++) {
      const a = s.hb[i]
      s.hb[i] = (a / (1 + Math.exp(-a))) * s.hb2[i]
    }
    yield { group: 'down', layer: l, input: s.hb, outputs: [s.xb] }
    for (let i = 0; i < dim; i++) s.x[i] += s.xb[i]
  }
  rmsnorm(s.x, s.x, p.rmsFinal, 0, dim)
  yield { group: 'cls', layer: -1, input: s.x, outputs: [s.logits] }
  return s.logits
}

/** Drive a forward program with an in-process backend. */
export function runForward (program: Generator<LinearRequest, Float32Array, void>, backend: LinearBackendSync): Float32Array {
  let step = program.next()
  while (step.done !== true) {
    backend.run(step.value)
    step = program.next()
  }
  return step.value
}
