/**
 * Test helper: llama.cpp (through node-llama-cpp 3.21.1, a devDependency) as the
 * independent reference for GGUF files: it must load the fixtures we write and compute
 * and tokenize what Cerberus computes and tokenizes.
 *
 * Settings that matter (issue 15, measured): `build: 'never'` so it never tries to compile
 * or download llama.cpp; the prebuilt CPU binary only (`gpu: false`); one thread (its default
 * of 4 threads on a 2-core machine made a token cost 560 ms instead of 1.3 ms); an F32 KV
 * cache for reference logits (the default F16 cache moves log-probs by 5e-2).
 *
 * If the binding cannot load, the reference tests fail (they do not skip) unless
 * CERBERUS_SKIP_LLAMA_CPP=1 is set, so a broken install cannot pass silently.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Llama, LlamaContext, LlamaModel, Token } from 'node-llama-cpp'

let instance: Promise<Llama> | undefined

/** The shared llama.cpp instance (CPU, quiet). */
export async function llamaCpp (): Promise<Llama> {
  instance ??= import('node-llama-cpp').then(async m => await m.getLlama({ build: 'never', gpu: false, logLevel: m.LlamaLogLevel.error, progressLogs: false }))
  return await instance
}

/** True when the reference tests may be skipped because the binding is unavailable by choice. */
export const SKIP_LLAMA_CPP = process.env.CERBERUS_SKIP_LLAMA_CPP === '1'

let dir: string | undefined

/** Write `bytes` to a temporary .gguf file (llama.cpp loads models from paths). */
export function tempGguf (name: string, bytes: Uint8Array): string {
  dir ??= mkdtempSync(join(tmpdir(), 'cerberus-gguf-'))
  const path = join(dir, `${name}.gguf`)
  writeFileSync(path, bytes)
  return path
}

/** Load a model file; `vocabOnly` reads just the tokenizer. */
export async function loadModel (path: string, vocabOnly = false): Promise<LlamaModel> {
  const llama = await llamaCpp()
  return await llama.loadModel({ modelPath: path, gpuLayers: 0, vocabOnly })
}

/** A one-thread context with an F32 KV cache. */
export async function referenceContext (model: LlamaModel, contextSize: number): Promise<LlamaContext> {
  return await model.createContext({ contextSize, threads: 1, batchSize: Math.min(contextSize, 512), experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' } as Parameters<LlamaModel['createContext']>[0])
}

/** Greedy generation in llama.cpp: the `steps` tokens after `prompt`, never stopping early. */
export async function referenceGreedy (model: LlamaModel, prompt: readonly number[], steps: number): Promise<number[]> {
  const ctx = await referenceContext(model, prompt.length + steps)
  try {
    const out: number[] = []
    for await (const t of ctx.getSequence().evaluate(prompt as Token[], { temperature: 0 })) {
      out.push(t)
      if (out.length >= steps) break
    }
    return out
  } finally {
    await ctx.dispose()
  }
}

/** Teacher-forced: llama.cpp's most likely next token after each prefix of `tokens`. */
export async function referenceTop1 (model: LlamaModel, tokens: readonly number[]): Promise<number[]> {
  const ctx = await referenceContext(model, tokens.length)
  try {
    const out = await ctx.getSequence().controlledEvaluate(tokens.map(t => [t as Token, { generateNext: { token: true, options: { temperature: 0 } } }]))
    return out.map((o, i) => {
      const t = o?.next.token
      if (t === undefined || t === null) throw new Error(`llama.cpp gave no token after position ${i}`)
      return t
    })
  } finally {
    await ctx.dispose()
  }
}

/** llama.cpp's own Jinja engine (C++, in the binding), independent of @huggingface/jinja. */
export async function referenceRenderTemplate (template: string, items: Record<string, unknown>): Promise<string> {
  const llama = await llamaCpp()
  const bindings = (llama as unknown as { _bindings: { AddonJinjaRenderer: new (t: string) => { render: (i: Record<string, unknown>) => string } } })._bindings
  return new bindings.AddonJinjaRenderer(template).render(items)
}
