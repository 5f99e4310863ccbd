/**
 * Node's components for the app's roles: a libp2p peer on WebSockets, HE workers as
 * worker_threads, models read from files (or fetched by URL). The CLI, the gateway and the
 * app's unit tests build their roles with these.
 */
import type { ClientComponents } from '../app/index.ts'
import { parseModel } from '../app/index.ts'
import { CerberusError } from '../core/errors.ts'
import { createPeer } from '../net/peer.ts'
import { spawnNodeHeWorker } from '../workers/he-port.node.ts'
import type { HePortFactory } from '../workers/index.ts'
import { loadModelFiles } from './model-files.ts'

/** Options of {@link nodeClientComponents}. */
export interface NodePlatformOptions {
  /** Starts the user's HE worker (default: a worker thread). */
  readonly spawnHeWorker?: HePortFactory
  /** The default model's files (default: the default model directory's). */
  readonly modelPath?: string
  readonly tokenizerPath?: string
}

async function fetchBytes (url: string): Promise<Uint8Array> {
  const res = await fetch(url)
  if (!res.ok) throw new CerberusError('MODEL_FETCH', `could not download ${url}: the server answered ${res.status} ${res.statusText}`)
  return new Uint8Array(await res.arrayBuffer())
}

/** A user's components in a Node process. */
export function nodeClientComponents (opts: NodePlatformOptions = {}): ClientComponents {
  return {
    createPeer: async (privateKey) => await createPeer({ privateKey }),
    spawnHeWorker: opts.spawnHeWorker ?? (() => spawnNodeHeWorker()),
    async loadModel (source, onProgress) {
      if (source.kind === 'default') {
        const m = await loadModelFiles(opts.modelPath, opts.tokenizerPath)
        onProgress?.(m.bytes, m.bytes)
        return m
      }
      const model = source.kind === 'url' ? await fetchBytes(source.model) : new Uint8Array(await source.model.arrayBuffer())
      const tokenizer = source.tokenizer === undefined ? undefined : source.kind === 'url' ? await fetchBytes(source.tokenizer) : new Uint8Array(await source.tokenizer.arrayBuffer())
      onProgress?.(model.byteLength, model.byteLength)
      return await parseModel(source.kind === 'url' ? source.model.split('/').pop() ?? 'model' : 'model', model, tokenizer)
    }
  }
}
