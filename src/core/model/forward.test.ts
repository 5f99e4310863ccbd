import { describe, expect, it } from 'vitest'
import { parseCheckpoint } from './checkpoint.ts'
import { createRunState, forwardProgram, forwardRounds, runForward, runRounds, type LinearRound, type RoundBackendSync, type TransformerParams } from './forward.ts'
import { f32Backend } from './linear.ts'
import { stories260K } from '../../test/fixtures.ts'

const ckpt = parseCheckpoint(stories260K().model)
const w = ckpt.weights
const params: TransformerParams = { config: ckpt.config, tokenEmbedding: w.tokenEmbedding, rmsAtt: w.rmsAtt, rmsFfn: w.rmsFfn, rmsFinal: w.rmsFinal }

// The f32 backend, one vector at a time, for a batched round (the checkpoint's groups only).
function f32Rounds (): RoundBackendSync & { seen: LinearRound[] } {
  const f32 = f32Backend(ckpt)
  const seen: LinearRound[] = []
  return {
    seen,
    runRound (round) {
      seen.push(round)
      for (const r of round) {
        const cols = r.input.length / r.batch
        for (let t = 0; t < r.batch; t++) {
          f32.run({
            group: r.group as 'qkv',
            layer: r.layer,
            input: r.input.subarray(t * cols, (t + 1) * cols),
            outputs: r.outputs.map(o => o.subarray((t * o.length) / r.batch, ((t + 1) * o.length) / r.batch))
          })
        }
      }
    }
  }
}

describe('the batched forward pass', () => {
  const prompt = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421]

  it('gives the last position\'s logits, and the KV cache, bit for bit as one token at a time', () => {
    const one = createRunState(ckpt.config)
    let expected = new Float32Array(0)
    prompt.forEach((t, pos) => { expected = runForward(forwardProgram(params, one, t, pos), f32Backend(ckpt)).slice() })
    const batched = createRunState(ckpt.config)
    const backend = f32Rounds()
    // in two batches, to cover a batch that starts past position 0
    runRounds(forwardRounds(params, batched, prompt.slice(0, 5), 0), backend)
    const logits = runRounds(forwardRounds(params, batched, prompt.slice(5), 5), backend)
    expect(Array.from(logits)).toEqual(Array.from(expected))
    expect(batched.keyCache).toEqual(one.keyCache)
    expect(batched.valueCache).toEqual(one.valueCache)
    // and the next single token agrees too
    expect(Array.from(runRounds(forwardRounds(params, batched, [410], prompt.length), backend))).toEqual(Array.from(runForward(forwardProgram(params, one, 410, prompt.length), f32Backend(ckpt))))
  })

  it('yields one round per group for all positions, and the classifier for the last one only', () => {
    const backend = f32Rounds()
    runRounds(forwardRounds(params, createRunState(ckpt.config), prompt, 0), backend)
    expect(backend.seen).toHaveLength(4 * ckpt.config.nLayers + 1)
    expect(backend.seen.slice(0, -1).every(r => r.length === 1 && r[0].batch === prompt.length)).toBe(true)
    expect(backend.seen[backend.seen.length - 1].map(r => [r.group, r.batch])).toEqual([['cls', 1]])
  })
})
