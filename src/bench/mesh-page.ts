/**
 * bench.html?bench=mesh&miners=ADDR,ADDR&steps=N: private generation of stories260K in the
 * browser — the user's SEAL in a Web Worker, the transformer on this page, every linear
 * layer computed by the listed headless miners over libp2p (WebSockets), verified — and
 * the result published on `window.cerberusMesh`.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { generateAsync, heBackend, privateEngine } from '../core/engine/index.ts'
import { NETWORKS } from '../core/he/planner.ts'
import { createRng, createSampler, parseCheckpoint, parseTokenizer } from '../core/model/index.ts'
import { squeezeModel } from '../core/squeeze/squeeze.ts'
import { createBrowserPeer } from '../net/browser-peer.ts'
import { meshMinerLink } from '../net/mesh-link.ts'
import { minerScheduler } from '../net/scheduler.ts'
import { createHeUserClient } from '../workers/he-client.ts'
import { spawnWebHeWorker } from '../workers/he-web-port.ts'

/** What the page publishes. */
export interface MeshRunResult {
  readonly text?: string
  readonly tokens?: number
  readonly verified?: number
  readonly rejected?: number
  readonly bytesUp?: number
  readonly bytesDown?: number
  readonly dropped?: string[]
  readonly error?: string
}

declare global {
  interface Window { cerberusMesh?: MeshRunResult }
}

/** Run the mesh generation described by the query string. */
export async function runMeshPage (q: URLSearchParams, out: HTMLElement): Promise<void> {
  try {
    const miners = (q.get('miners') ?? '').split(',').filter(a => a !== '')
    const steps = Number(q.get('steps') ?? '24')
    const get = async (f: string): Promise<Uint8Array> => new Uint8Array(await (await fetch(`/models/default/${f}`)).arrayBuffer())
    const ckpt = parseCheckpoint(await get('stories260K.bin'))
    const tok = parseTokenizer(await get('tok512.bin'), ckpt.config.vocabSize)
    const sq = squeezeModel(ckpt, { network: NETWORKS.lan })
    const peer = await createBrowserPeer()
    const session = crypto.randomUUID()
    const scheduler = minerScheduler(miners.map(a => meshMinerLink(peer, multiaddr(a), { session })))
    const user = createHeUserClient({ spawn: spawnWebHeWorker })
    const backend = await heBackend(sq, user, scheduler, { maxAttempts: 3 })
    const decoder = new TextDecoder()
    let text = ''
    let tokens = 0
    for await (const t of generateAsync(privateEngine(sq.params, backend), tok, createSampler({ temperature: 0, topp: 0.9 }, createRng(1)), { prompt: q.get('prompt') ?? '', steps })) {
      text += decoder.decode(t.bytes, { stream: true })
      tokens++
      out.textContent = text
    }
    const st = backend.stats
    window.cerberusMesh = { text, tokens, verified: st.verified, rejected: st.rejected, bytesUp: st.bytesUp, bytesDown: st.bytesDown, dropped: [...scheduler.dropped] }
    user.close()
    await peer.stop()
  } catch (err) {
    window.cerberusMesh = { error: `${(err as Error).name}: ${(err as Error).message}` }
    out.textContent = window.cerberusMesh.error ?? ''
  }
}
