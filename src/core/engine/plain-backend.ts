/**
 * The `w8a8` backend over a squeezed model: exactly the squeezed weights (fused, folded,
 * quantized, in the squeeze's round layout) in plaintext integers — the encrypted
 * backend's twin. Asynchronous for the private engine, synchronous for evaluations.
 */
import { createRunState, forwardRounds, runRounds, type LinearRound, type RoundBackendSync } from '../model/forward.ts'
import type { LogitsEngine } from '../model/generate.ts'
import { GenerationOptionsError } from '../model/errors.ts'
import { groupFor, type SqueezedModel } from '../squeeze/squeeze.ts'
import { asRound, emptyStats, type BackendStats, type LinearBackend } from './backend.ts'
import { plainIntMatvecs, runQuantizedGroup, runQuantizedGroupSync } from './quantized.ts'

// Count a round's work; it is a round trip when any part of it would be encrypted.
function count (sq: SqueezedModel, stats: BackendStats, round: LinearRound): void {
  let encrypted = false
  for (const req of round) {
    stats.groups += req.batch
    if (groupFor(sq, req.group, req.layer).placement === 'encrypted') encrypted = true
  }
  if (encrypted) stats.rounds++
}

/** Plaintext integer backend for a squeezed model. */
export function squeezedW8a8Backend (sq: SqueezedModel): LinearBackend {
  const stats = emptyStats()
  const backend: LinearBackend = {
    name: 'w8a8',
    stats,
    layout: sq.layout,
    async run (req, signal) { await backend.runRound(asRound(req), signal) },
    async runRound (round, signal) {
      signal?.throwIfAborted()
      const t0 = performance.now()
      for (const req of round) await runQuantizedGroup(groupFor(sq, req.group, req.layer), req, plainIntMatvecs)
      stats.userMs += performance.now() - t0
      count(sq, stats, round)
    }
  }
  return backend
}

/** The same plaintext twin, synchronously, with its counters. */
export function squeezedW8a8Sync (sq: SqueezedModel): RoundBackendSync & { readonly stats: BackendStats } {
  const stats = emptyStats()
  return {
    stats,
    runRound (round) {
      for (const req of round) runQuantizedGroupSync(groupFor(sq, req.group, req.layer), req, plainIntMatvecs)
      count(sq, stats, round)
    }
  }
}

/** A synchronous engine over the plaintext twin of a squeezed model, in its layout (for eval-quant). */
export function squeezedEngine (sq: SqueezedModel): LogitsEngine {
  const c = sq.params.config
  const state = createRunState(c)
  const backend = squeezedW8a8Sync(sq)
  return {
    seqLen: c.seqLen,
    forward (token, pos) {
      if (!Number.isInteger(pos) || pos < 0 || pos >= c.seqLen) throw new GenerationOptionsError(`position ${pos} is outside the model's context [0, ${c.seqLen})`)
      if (!Number.isInteger(token) || token < 0 || token >= c.vocabSize) throw new GenerationOptionsError(`token ${token} is outside the vocabulary [0, ${c.vocabSize})`)
      return runRounds(forwardRounds(sq.params, state, [token], pos, sq.layout), backend)
    }
  }
}
