/**
 * The transformer forward pass, written once for every way of computing linear layers.
 *
 * `forwardRounds` is the one function that knows the layer order. It does the cheap,
 * O(dim) parts itself — embedding lookup, RMSNorm, RoPE, attention over its own KV cache,
 * SwiGLU gating, residual adds — and *yields* its linear layers as rounds of
 * {@link BatchRequest}s for a backend to fill in: plain float32, plaintext W8A8 integers,
 * or encrypted on miners. A round is what one dependent round trip to a miner can carry:
 * every request of a round is independent of the others, the next round needs them all.
 *
 * - Matrices that share an input are requested together (q|k|v, w1|w3): one request, one
 *   input, several outputs — the fusion Cerberus Squeezing relies on.
 * - **Batches**: the pass runs T positions [pos0, pos0 + T) at once (batched prefill); each
 *   request carries T input vectors, one per position, and each position attends causally
 *   over the cache exactly as the one-token pass does, so every position's floats are the
 *   one-token pass's bit for bit. Only the last position's logits are computed.
 * - **Layouts** (issue 12): 'unfused' is four rounds per layer (qkv, o, up, down). 'fused'
 *   is two: in a pre-norm block only a residual add and one scalar 1/rms (the RMSNorm gain
 *   is folded into the next matrix) sit between a layer's output projection and the next
 *   matrix, and linear maps commute with the scalar, so
 *   α: a, x ↦ Wo·a, (W13·G·Wo)·a, (W13·G)·x;  h = x + Wo·a,  W13·n = (…x + …a)/rms(h);
 *   β: m, h ↦ W2·m, (Wqkv'·G'·W2)·m, (Wqkv'·G')·h;  x' = h + W2·m,  qkv' = (…)/rms(x').
 *   The fused layout needs the gains folded (the params' gains are ones).
 *
 * `forwardProgram` is the one-token, unfused pass as single requests — what the in-process
 * plaintext engines (f32, w8a8) run; it yields exactly what it always did.
 */
import type { ModelConfig } from './checkpoint.ts'
import { attend, batchBuffers, invRms, rmsnormRow, rope, ropeTables, type RunState } from './forward-state.ts'

export { createRunState, rmsnorm, type RunState } from './forward-state.ts'

/** Linear layer groups of the checkpoint; each group's matrices share one input vector. */
export type LinearGroup = 'qkv' | 'o' | 'up' | 'down' | 'cls'

/**
 * Groups only the round-fused layout has: products of two of the model's matrices.
 * 'o-up' (a ↦ Wo·a, W1·G·Wo·a, W3·G·Wo·a), 'down-qkv' (m ↦ W2·m, Wq|Wk|Wv·G'·W2·m of the
 * next layer), 'cls-down' (m ↦ Wcls·G·W2·m, the last layer's, when the classifier is encrypted).
 */
export type FusedGroup = 'o-up' | 'down-qkv' | 'cls-down'

/** Every group a forward pass may request. */
export type RoundGroup = LinearGroup | FusedGroup

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

/** A group over `batch` vectors: input (batch, cols), each output (batch, rows_i), row-major. */
export interface BatchRequest {
  readonly group: RoundGroup
  /** Layer index; -1 for the classifier. */
  readonly layer: number
  readonly batch: number
  readonly input: Float32Array
  readonly outputs: readonly Float32Array[]
}

/** Requests with no dependency among them: one round trip. No output aliases an input. */
export type LinearRound = readonly BatchRequest[]

/** Something that fills in a {@link LinearRequest} synchronously. */
export interface LinearBackendSync {
  run: (req: LinearRequest) => void
}

/** Something that fills in every request of a round synchronously. */
export interface RoundBackendSync {
  runRound: (round: LinearRound) => void
}

/** How the forward pass groups its linear layers into rounds. */
export interface ForwardLayout {
  /** 'unfused': qkv, o, up, down per layer; 'fused': α and β per layer (+ the first qkv). */
  readonly rounds: 'unfused' | 'fused'
  /**
   * Fused only: the classifier is computed remotely, so its pre-norm projections come back
   * with the last layer's β round ('cls-down' on m, 'cls' on h) instead of a round of its own.
   */
  readonly classifierInLastRound: boolean
}

/** Today's layout: four rounds per layer. */
export const UNFUSED: ForwardLayout = Object.freeze({ rounds: 'unfused', classifierInLastRound: false })

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

const req = (group: RoundGroup, layer: number, batch: number, input: Float32Array, outputs: Float32Array[]): BatchRequest => ({ group, layer, batch, input, outputs })

// out[i] (n,) = (a[i] + b[i]) · r: a fused plan's two partial products, scaled by 1/rms
function combine (out: Float32Array, a: Float32Array, b: Float32Array, off: number, n: number, r: number): void {
  for (let i = 0; i < n; i++) out[off + i] = (a[off + i] + b[off + i]) * r
}

/**
 * The forward pass for positions [pos0, pos0 + tokens.length) as a program that yields its
 * rounds. Returns the last position's logits (a view of `s.logits`, overwritten by the
 * next call). The caller checks tokens and positions.
 */
export function * forwardRounds (p: TransformerParams, s: RunState, tokens: ArrayLike<number>, pos0: number, layout: ForwardLayout = UNFUSED): Generator<LinearRound, Float32Array, void> {
  const c = p.config
  const { dim, kvDim, hiddenDim: hid, headSize, seqLen, nLayers } = c
  const T = tokens.length
  const b = batchBuffers(s, c, T)
  const fused = layout.rounds === 'fused'
  const last = T - 1
  for (let t = 0; t < T; t++) b.x.set(p.tokenEmbedding.subarray(tokens[t] * dim, (tokens[t] + 1) * dim), t * dim)
  for (let t = 0; t < T; t++) rmsnormRow(b.xb, t * dim, b.x, t * dim, p.rmsAtt, 0, dim)
  yield [req('qkv', 0, T, b.xb, [b.q, b.k, b.v])]
  for (let l = 0; l < nLayers; l++) {
    // RoPE and the cache for every position first, then causal attention per position.
    const loff = l * seqLen * kvDim
    for (let t = 0; t < T; t++) {
      const { cos, sin } = ropeTables(s.invFreq, pos0 + t)
      rope(b.q, t * dim, dim, headSize, cos, sin)
      rope(b.k, t * kvDim, kvDim, headSize, cos, sin)
      s.keyCache.set(b.k.subarray(t * kvDim, (t + 1) * kvDim), loff + (pos0 + t) * kvDim)
      s.valueCache.set(b.v.subarray(t * kvDim, (t + 1) * kvDim), loff + (pos0 + t) * kvDim)
    }
    for (let t = 0; t < T; t++) attend(c, s, l, pos0 + t, b.q, t * dim, b.xb, t * dim)
    const next = l + 1 < nLayers
    if (!fused) {
      yield [req('o', l, T, b.xb, [b.xb2])]
      for (let i = 0; i < T * dim; i++) b.x[i] += b.xb2[i]
      for (let t = 0; t < T; t++) rmsnormRow(b.xb, t * dim, b.x, t * dim, p.rmsFfn, l * dim, dim)
      yield [req('up', l, T, b.xb, [b.hb, b.hb2])]
      gate(b.hb, b.hb2, T * hid)
      yield [req('down', l, T, b.hb, [b.xb])]
      for (let i = 0; i < T * dim; i++) b.x[i] += b.xb[i]
      if (next) {
        for (let t = 0; t < T; t++) rmsnormRow(b.xb, t * dim, b.x, t * dim, p.rmsAtt, (l + 1) * dim, dim)
        yield [req('qkv', l + 1, T, b.xb, [b.q, b.k, b.v])]
      }
      continue
    }
    // α: the attention output a (in xb) and the layer input x
    yield [req('o-up', l, T, b.xb, [b.xb2, b.f1, b.f3]), req('up', l, T, b.x, [b.hb, b.hb2])]
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < dim; i++) b.x[t * dim + i] += b.xb2[t * dim + i] // x is now h
      const r = invRms(b.x, t * dim, dim)
      combine(b.hb, b.hb, b.f1, t * hid, hid, r)
      combine(b.hb2, b.hb2, b.f3, t * hid, hid, r)
    }
    gate(b.hb, b.hb2, T * hid)
    // β: the gated m (in hb) and h (in x)
    if (next) {
      yield [req('down-qkv', l, T, b.hb, [b.xb, b.gq, b.gk, b.gv]), req('qkv', l + 1, T, b.x, [b.q, b.k, b.v])]
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < dim; i++) b.x[t * dim + i] += b.xb[t * dim + i]
        const r = invRms(b.x, t * dim, dim)
        combine(b.q, b.q, b.gq, t * dim, dim, r)
        combine(b.k, b.k, b.gk, t * kvDim, kvDim, r)
        combine(b.v, b.v, b.gv, t * kvDim, kvDim, r)
      }
    } else if (layout.classifierInLastRound) {
      const m = b.hb.subarray(last * hid, T * hid)
      const h = b.x.subarray(last * dim, T * dim)
      yield [req('down', l, T, b.hb, [b.xb]), req('cls-down', l, 1, m, [b.gcls]), req('cls', -1, 1, h, [s.logits])]
      for (let i = 0; i < T * dim; i++) b.x[i] += b.xb[i]
      combine(s.logits, s.logits, b.gcls, 0, c.vocabSize, invRms(b.x, last * dim, dim))
      return s.logits
    } else {
      yield [req('down', l, T, b.hb, [b.xb])]
      for (let i = 0; i < T * dim; i++) b.x[i] += b.xb[i]
    }
  }
  // The classifier, for the last position only (the prompt's other tokens are forced).
  const xl = b.x.subarray(last * dim, T * dim)
  rmsnormRow(xl, 0, xl, 0, p.rmsFinal, 0, dim)
  yield [req('cls', -1, 1, xl, [s.logits])]
  return s.logits
}

// SwiGLU: hb (n,) = silu(hb) ⊙ hb2
function gate (hb: Float32Array, hb2: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const a = hb[i]
    hb[i] = (a / (1 + Math.exp(-a))) * hb2[i]
  }
}

/**
 * The forward pass for one token as a program that yields its linear layers one group at
 * a time (the unfused layout). Returns the logits (a view of `s.logits`, overwritten by the
 * next call).
 */
export function * forwardProgram (p: TransformerParams, s: RunState, token: number, pos: number): Generator<LinearRequest, Float32Array, void> {
  const program = forwardRounds(p, s, [token], pos, UNFUSED)
  let step = program.next()
  while (step.done !== true) {
    // The unfused layout yields one checkpoint group per round, for one vector.
    const { group, layer, input, outputs } = step.value[0]
    yield { group: group as LinearGroup, layer, input, outputs }
    step = program.next()
  }
  return step.value
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

/** Drive a round program with an in-process backend. */
export function runRounds (program: Generator<LinearRound, Float32Array, void>, backend: RoundBackendSync): Float32Array {
  let step = program.next()
  while (step.done !== true) {
    backend.runRound(step.value)
    step = program.next()
  }
  return step.value
}
