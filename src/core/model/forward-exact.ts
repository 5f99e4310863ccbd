/**
 * The deliberately exact float32 forward pass: run.c's `forward`, with every operation
 * rounded to float32 in run.c's order (sequential sums, no reassociation). It exists to be
 * the trusted reference the fast engines are tested against; it is ~10× slower than
 * {@link ./forward.ts} and no benchmark compares against it.
 */
import { ropeTheta, type Checkpoint } from './checkpoint.ts'
import { cosf, expf, f32, powf, sinf } from './float32.ts'
import { softmaxF32 } from './sampler.ts'

/** Activations and KV cache of one sequence for the exact path. */
export interface ExactState {
  readonly x: Float32Array
  readonly xb: Float32Array
  readonly xb2: Float32Array
  readonly hb: Float32Array
  readonly hb2: Float32Array
  readonly q: Float32Array
  /** (layers, seqLen, kvDim) */
  readonly keyCache: Float32Array
  /** (layers, seqLen, kvDim) */
  readonly valueCache: Float32Array
  readonly att: Float32Array
  readonly logits: Float32Array
}

/** Fresh, zeroed state for `ckpt`. */
export function createExactState (ckpt: Checkpoint): ExactState {
  const c = ckpt.config
  return {
    x: new Float32Array(c.dim),
    xb: new Float32Array(c.dim),
    xb2: new Float32Array(c.dim),
    hb: new Float32Array(c.hiddenDim),
    hb2: new Float32Array(c.hiddenDim),
    q: new Float32Array(c.dim),
    keyCache: new Float32Array(c.nLayers * c.seqLen * c.kvDim),
    valueCache: new Float32Array(c.nLayers * c.seqLen * c.kvDim),
    att: new Float32Array(c.seqLen),
    logits: new Float32Array(c.vocabSize)
  }
}

// o (size,) = weight (size,) ⊙ x (size,) / rms(x)
function rmsnorm (o: Float32Array, x: Float32Array, weight: Float32Array, wOff: number, size: number): void {
  let ss = 0
  for (let j = 0; j < size; j++) ss = f32(ss + f32(x[j] * x[j]))
  ss = f32(ss / size)
  ss = f32(ss + f32(1e-5))
  ss = f32(1 / f32(Math.sqrt(ss)))
  for (let j = 0; j < size; j++) o[j] = f32(weight[wOff + j] * f32(ss * x[j]))
}

// out (d,) = W (d, n) @ x (n,), W starting at wOff
function matmul (out: Float32Array, oOff: number, x: Float32Array, w: Float32Array, wOff: number, n: number, d: number): void {
  for (let i = 0; i < d; i++) {
    let val = 0
    const row = wOff + i * n
    for (let j = 0; j < n; j++) val = f32(val + f32(w[row + j] * x[j]))
    out[oOff + i] = val
  }
}

/**
 * Run one token at position `pos` and return the logits (a view of `s.logits`).
 * The KV cache of positions < pos must hold this sequence's earlier tokens.
 */
export function forwardExact (ckpt: Checkpoint, s: ExactState, token: number, pos: number): Float32Array {
  const { config: p, weights: w } = ckpt
  const { dim, kvDim, hiddenDim, headSize, seqLen } = p
  const kvMul = p.nHeads / p.nKvHeads
  const theta = ropeTheta(p)
  s.x.set(w.tokenEmbedding.subarray(token * dim, (token + 1) * dim))
  for (let l = 0; l < p.nLayers; l++) {
    rmsnorm(s.xb, s.x, w.rmsAtt, l * dim, dim)
    const loff = l * seqLen * kvDim
    const kOff = loff + pos * kvDim
    matmul(s.q, 0, s.xb, w.wq, l * dim * dim, dim, dim)
    matmul(s.keyCache, kOff, s.xb, w.wk, l * dim * kvDim, dim, kvDim)
    matmul(s.valueCache, kOff, s.xb, w.wv, l * dim * kvDim, dim, kvDim)
    // RoPE: rotate adjacent pairs of q (all heads) and k (kv heads).
    for (let i = 0; i < dim; i += 2) {
      const headDim = i % headSize
      const freq = f32(1 / powf(theta, f32(headDim / headSize)))
      const val = f32(pos * freq)
      const fcr = cosf(val)
      const fci = sinf(val)
      const rotn = i < kvDim ? 2 : 1
      for (let v = 0; v < rotn; v++) {
        const vec = v === 0 ? s.q : s.keyCache
        const o = v === 0 ? i : kOff + i
        const v0 = vec[o]
        const v1 = vec[o + 1]
        vec[o] = f32(f32(v0 * fcr) - f32(v1 * fci))
        vec[o + 1] = f32(f32(v0 * fci) + f32(v1 * fcr))
      }
    }
    const scale = f32(Math.sqrt(headSize))
    for (let h = 0; h < p.nHeads; h++) {
      const qOff = h * headSize
      const kvHead = Math.floor(h / kvMul) * headSize
      for (let t = 0; t <= pos; t++) {
        const k = loff + t * kvDim + kvHead
        let score = 0
        for (let i = 0; i < headSize; i++) score = f32(score + f32(s.q[qOff + i] * s.keyCache[k + i]))
        s.att[t] = f32(score / scale)
      }
      softmaxF32(s.att, pos + 1)
      s.xb.fill(0, qOff, qOff + headSize)
      for (let t = 0; t <= pos; t++) {
        const v = loff + t * kvDim + kvHead
        const a = s.att[t]
        for (let i = 0; i < headSize; i++) s.xb[qOff + i] = f32(s.xb[qOff + i] + f32(a * s.valueCache[v + i]))
      }
    }
    matmul(s.xb2, 0, s.xb, w.wo, l * dim * dim, dim, dim)
    for (let i = 0; i < dim; i++) s.x[i] = f32(s.x[i] + s.xb2[i])
    rmsnorm(s.xb, s.x, w.rmsFfn, l * dim, dim)
    matmul(s.hb, 0, s.xb, w.w1, l * dim * hiddenDim, dim, hiddenDim)
    matmul(s.hb2, 0, s.xb, w.w3, l * dim * hiddenDim, dim, hiddenDim)
    for (let i = 0; i < hiddenDim; i++) {
      let val = s.hb[i]
      val = f32(val * f32(1 / f32(1 + expf(-val))))
      s.hb[i] = f32(val * s.hb2[i])
    }
    matmul(s.xb, 0, s.hb, w.w2, l * dim * hiddenDim, hiddenDim, dim)
    for (let i = 0; i < dim; i++) s.x[i] = f32(s.x[i] + s.xb[i])
  }
  rmsnorm(s.x, s.x, w.rmsFinal, 0, dim)
  matmul(s.logits, 0, s.x, w.wcls, 0, dim, p.vocabSize)
  return s.logits
}
