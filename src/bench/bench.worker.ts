/**
 * The browser benchmark worker: runs a benchmark off the page's thread and posts its
 * report (or its error).
 */
import sealWasm from 'cerberus:seal-wasm?url'
import { loadSeal, NETWORKS } from '../core/he/index.ts'
import { parseCheckpoint, parseTokenizer } from '../core/model/index.ts'
import { benchEngineModel, type EngineBenchReport } from './engine-bench.ts'
import { runHeBench, type HeBenchReport } from './he-bench.ts'

/** What the page asks for. */
export interface BenchRequest {
  readonly bench: 'he' | 'engine'
  /** engine: tokens to generate */
  readonly tokens?: number
  readonly shapes?: Array<[number, number]>
  readonly network?: 'loopback' | 'lan' | 'wan'
  readonly reps?: number
}

/** What the worker answers. */
export type BenchReply =
  | { readonly kind: 'done', readonly report: HeBenchReport | EngineBenchReport }
  | { readonly kind: 'failed', readonly error: string }
  | { readonly kind: 'progress', readonly line: string }

interface Scope {
  postMessage: (m: BenchReply) => void
  addEventListener: (t: 'message', l: (e: MessageEvent<BenchRequest>) => void) => void
}
const scope = self as unknown as Scope
scope.addEventListener('message', (e) => {
  void (async () => {
    try {
      const seal = await loadSeal({ wasmUrl: new URL(sealWasm, import.meta.url).href })
      if (e.data.bench === 'engine') {
        const get = async (f: string): Promise<Uint8Array> => new Uint8Array(await (await fetch(`/models/default/${f}`)).arrayBuffer())
        const ckpt = parseCheckpoint(await get('stories260K.bin'))
        const tok = parseTokenizer(await get('tok512.bin'), ckpt.config.vocabSize)
        const m = await benchEngineModel(seal, 'stories260K', ckpt, tok, { tokens: e.data.tokens ?? 64 })
        scope.postMessage({ kind: 'done', report: { runtime: 'chromium', models: [m] } })
        return
      }
      const report = runHeBench(seal, {
        runtime: 'chromium',
        shapes: e.data.shapes,
        network: NETWORKS[e.data.network ?? 'lan'],
        reps: e.data.reps,
        onShape: s => { scope.postMessage({ kind: 'progress', line: `${s.dOut}×${s.dIn}: ${s.totalMs.toFixed(1)} ms` }) }
      })
      scope.postMessage({ kind: 'done', report })
    } catch (err) {
      scope.postMessage({ kind: 'failed', error: `${(err as Error).name}: ${(err as Error).message}` })
    }
  })()
})
