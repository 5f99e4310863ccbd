import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import golden from './testdata/runc-golden.json' with { type: 'json' }
import { parseCheckpoint } from './checkpoint.ts'
import { createEngine, ENGINE_KINDS } from './engines.ts'
import { GenerationOptionsError } from './errors.ts'
import { generate } from './generate.ts'
import { createRng } from './rng.ts'
import { createSampler } from './sampler.ts'
import { stories260K } from '../../test/fixtures.ts'
import { parseTokenizer } from './tokenizer.ts'

const files = stories260K()
const ckpt = parseCheckpoint(files.model)
const tok = parseTokenizer(files.tokenizer, ckpt.config.vocabSize)

function run (engine: 'f32' | 'f32-fast' | 'w8a8', c: { temperature: number, topp: number, seed: number, steps: number, prompt: string }): { text: Buffer, tokens: number[] } {
  const sampler = createSampler({ temperature: c.temperature, topp: c.topp }, createRng(c.seed))
  const out = [...generate(createEngine(engine, ckpt), tok, sampler, { prompt: c.prompt, steps: c.steps })]
  return { text: Buffer.concat([...out.map(t => t.bytes), Buffer.from('\n')]), tokens: out.map(t => t.token) }
}

describe('the f32 engine prints exactly what llama2.c run.c prints', () => {
  for (const c of golden.generate) {
    it(`-t ${c.temperature} -p ${c.topp} -s ${c.seed} -n ${c.steps} -i ${JSON.stringify(c.prompt)}`, () => {
      expect(run('f32', c).text.toString('base64')).toBe(c.stdout)
    })
  }

  it('starts with the 60 greedy tokens of the model card', () => {
    const ids = '403 407 261 378 432 383 286 261 376 298 315 421 395 317 426 338 401 396 267 337 410 408 419 292 411 322 265 282 295 433 426 385 328 432 358 394 261 370 432 352 266 268 388 426 338 391 266 267 337 335 312 432 398 312 286 267 414 270 333 415'.split(' ').map(Number)
    expect(run('f32', { temperature: 0, topp: 0.9, seed: 1, steps: 60, prompt: '' }).tokens).toEqual(ids)
  })
})

describe('the f32 engine computes run.c\'s logits bit for bit', () => {
  for (const c of golden.logits) {
    it(`every logit of ${c.calls} forward passes (-t ${c.temperature} -s ${c.seed} -i ${JSON.stringify(c.prompt)})`, () => {
      const inner = createEngine('f32', ckpt)
      const hash = createHash('sha256')
      let calls = 0
      const engine = {
        seqLen: inner.seqLen,
        forward: (t: number, p: number) => {
          const l = inner.forward(t, p)
          hash.update(new Uint8Array(l.buffer.slice(l.byteOffset, l.byteOffset + l.byteLength)))
          calls++
          return l
        }
      }
      const sampler = createSampler({ temperature: c.temperature, topp: c.topp }, createRng(c.seed))
      const tokens = [...generate(engine, tok, sampler, { prompt: c.prompt, steps: c.steps })]
      expect(tokens.length).toBeLessThanOrEqual(c.calls)
      expect(calls).toBe(c.calls)
      expect(hash.digest('hex')).toBe(c.sha256)
    })
  }
})

describe('the fast f32 engine', () => {
  it('gives the same greedy tokens as the exact engine for the whole context', () => {
    const c = { temperature: 0, topp: 0.9, seed: 1, steps: 512, prompt: '' }
    expect(run('f32-fast', c).tokens).toEqual(run('f32', c).tokens)
  })

  it('gives the same greedy tokens from a prompt', () => {
    const c = { temperature: 0, topp: 0.9, seed: 1, steps: 256, prompt: 'Tom and his dog' }
    expect(run('f32-fast', c).tokens).toEqual(run('f32', c).tokens)
  })
})

describe('generation', () => {
  it('w8a8 tells the same story opening, greedily', () => {
    const text = run('w8a8', { temperature: 0, topp: 0.9, seed: 1, steps: 20, prompt: '' }).text.toString()
    expect(text.startsWith('Once upon a time, there was a little girl named Lily.')).toBe(true)
  })

  it('forces the prompt, then samples; prompt tokens are marked', () => {
    const sampler = createSampler({ temperature: 0, topp: 0.9 }, createRng(1))
    const out = [...generate(createEngine('f32-fast', ckpt), tok, sampler, { prompt: 'Once upon a time', steps: 10 })]
    expect(out.map(t => t.fromPrompt)).toEqual([true, true, true, true, false, false, false, false, false, false])
  })

  it('stops between tokens when aborted', () => {
    const ctl = new AbortController()
    const sampler = createSampler({ temperature: 0, topp: 0.9 }, createRng(1))
    const seen: number[] = []
    expect(() => {
      for (const t of generate(createEngine('f32-fast', ckpt), tok, sampler, { prompt: '', steps: 100, signal: ctl.signal })) {
        seen.push(t.token)
        if (seen.length === 5) ctl.abort()
      }
    }).toThrow()
    expect(seen.length).toBe(5)
  })

  it('rejects a negative step count, and clamps too many steps to the context', () => {
    const sampler = createSampler({ temperature: 0, topp: 0.9 }, createRng(1))
    expect(() => [...generate(createEngine('f32-fast', ckpt), tok, sampler, { prompt: '', steps: -1 })]).toThrow(GenerationOptionsError)
    const c = { temperature: 0, topp: 0.9, seed: 1, prompt: '' }
    expect(run('f32-fast', { ...c, steps: 100000 }).tokens).toEqual(run('f32-fast', { ...c, steps: 512 }).tokens)
    expect(run('f32-fast', { ...c, steps: 0 }).tokens).toEqual(run('f32-fast', { ...c, steps: 512 }).tokens)
  })

  it('every engine refuses a token or position outside the model', () => {
    for (const kind of ENGINE_KINDS) {
      const e = createEngine(kind, ckpt)
      expect(() => e.forward(512, 0)).toThrow(/token 512 is outside the vocabulary/)
      expect(() => e.forward(1, 512)).toThrow(/position 512 is outside the model's context/)
    }
  })
})
