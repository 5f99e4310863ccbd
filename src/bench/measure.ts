/**
 * What the long-running benchmarks (chaos, soak) measure with: a full garbage collection
 * in this process, memory after it, a least-squares slope, and the w8a8 twin's bytes.
 */
import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import { squeezedEngine } from '../core/engine/index.ts'
import { NETWORKS, type NetworkProfile } from '../core/he/index.ts'
import { createRng, createSampler, generate, type Checkpoint, type Tokenizer } from '../core/model/index.ts'
import { squeezeModel } from '../core/squeeze/index.ts'

let gcFn: (() => void) | undefined

/**
 * A full, synchronous garbage collection. `--expose-gc` is set at run time (V8 allows it
 * before the first use), so `npx cerberus bench …` needs no Node flag.
 */
export function fullGc (): void {
  if (gcFn === undefined) {
    setFlagsFromString('--expose-gc')
    gcFn = runInNewContext('gc') as () => void
  }
  gcFn()
}

/** This process's memory after a full GC: the JS heap, memory outside it (SEAL's WebAssembly heap, buffers), the resident set. */
export function memoryAfterGc (): { heapUsed: number, external: number, rss: number } {
  fullGc()
  const m = process.memoryUsage()
  return { heapUsed: m.heapUsed, external: m.external, rss: m.rss }
}

/** The least-squares slope of `ys` against their index (0 for fewer than two points). */
export function slope (ys: readonly number[]): number {
  const n = ys.length
  if (n < 2) return 0
  const mx = (n - 1) / 2
  const my = ys.reduce((a, y) => a + y, 0) / n
  let sxy = 0
  let sxx = 0
  for (let i = 0; i < n; i++) {
    sxy += (i - mx) * (ys[i] - my)
    sxx += (i - mx) * (i - mx)
  }
  return sxy / sxx
}

/**
 * What the w8a8 engine prints for a greedy run of `steps` positions from `prompt` (the
 * prompt's tokens included, as run.c prints them) under the plan squeezed for `network` —
 * exactly what private generation with the same plan must print.
 */
export function w8a8Bytes (model: { ckpt: Checkpoint, tokenizer: Tokenizer }, prompt: string, steps: number, network: NetworkProfile = NETWORKS.lan): Uint8Array {
  const engine = squeezedEngine(squeezeModel(model.ckpt, { network }))
  const parts: Uint8Array[] = []
  for (const t of generate(engine, model.tokenizer, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt, steps })) parts.push(t.bytes)
  return concatBytes(parts)
}

/** One array of `parts`, in order. */
export function concatBytes (parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0))
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.byteLength }
  return out
}
