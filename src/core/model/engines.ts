/**
 * Plaintext engines: checkpoint → {@link LogitsEngine}.
 */
import type { Checkpoint } from './checkpoint.ts'
import { createExactState, forwardExact } from './forward-exact.ts'
import { createRunState, forwardProgram, runForward, type LinearBackendSync, type TransformerParams } from './forward.ts'
import type { LogitsEngine } from './generate.ts'
import { f32Backend } from './linear.ts'
import { quantizeModel, w8a8Backend, type W8A8Model } from './w8a8.ts'
import { GenerationOptionsError } from './errors.ts'

/**
 * The plaintext engines:
 * - `f32`: run.c's float32 arithmetic step for step — prints what run.c prints;
 * - `f32-fast`: float32 storage with float64 temporaries, the fastest plaintext path
 *   (the baseline of every benchmark); same greedy tokens as `f32` on the tests;
 * - `w8a8`: int8 weights and activations, the encrypted pipeline's plaintext twin.
 */
export type EngineKind = 'f32' | 'f32-fast' | 'w8a8'

/** Every plaintext engine kind, for argument validation. */
export const ENGINE_KINDS: readonly EngineKind[] = ['f32', 'f32-fast', 'w8a8']

function checkTokenPos (seqLen: number, vocab: number, token: number, pos: number): void {
  if (!Number.isInteger(pos) || pos < 0 || pos >= seqLen) throw new GenerationOptionsError(`position ${pos} is outside the model's context [0, ${seqLen})`)
  if (!Number.isInteger(token) || token < 0 || token >= vocab) throw new GenerationOptionsError(`token ${token} is outside the vocabulary [0, ${vocab})`)
}

/** An engine over any in-process linear backend (the same forward pass for all). */
export function backendEngine (params: TransformerParams, backend: LinearBackendSync): LogitsEngine {
  const c = params.config
  const state = createRunState(c)
  return {
    seqLen: c.seqLen,
    forward (token, pos) {
      checkTokenPos(c.seqLen, c.vocabSize, token, pos)
      return runForward(forwardProgram(params, state, token, pos), backend)
    }
  }
}

/** run.c's arithmetic, float32 at every step: the trusted, slow reference. */
export function exactEngine (ckpt: Checkpoint): LogitsEngine {
  const state = createExactState(ckpt)
  const c = ckpt.config
  return {
    seqLen: c.seqLen,
    forward (token, pos) {
      checkTokenPos(c.seqLen, c.vocabSize, token, pos)
      return forwardExact(ckpt, state, token, pos)
    }
  }
}

/** The fast float32 engine (float64 accumulation). */
export function f32Engine (ckpt: Checkpoint): LogitsEngine {
  const w = ckpt.weights
  return backendEngine({ config: ckpt.config, tokenEmbedding: w.tokenEmbedding, rmsAtt: w.rmsAtt, rmsFfn: w.rmsFfn, rmsFinal: w.rmsFinal }, f32Backend(ckpt))
}

/** The plaintext W8A8 engine (the encrypted pipeline's twin). */
export function w8a8Engine (model: W8A8Model): LogitsEngine {
  return backendEngine(model.params, w8a8Backend(model))
}

/** Build a plaintext engine of the given kind. Quantizes the model for 'w8a8'. */
export function createEngine (kind: EngineKind, ckpt: Checkpoint): LogitsEngine {
  switch (kind) {
    case 'f32': return exactEngine(ckpt)
    case 'f32-fast': return f32Engine(ckpt)
    case 'w8a8': return w8a8Engine(quantizeModel(ckpt))
  }
}
