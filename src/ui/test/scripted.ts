/**
 * Scripted stand-ins for the client and donor interfaces (src/app/types.ts), for the unit
 * tests of the UI's actions: they do what the contract says (state through subscribe,
 * streamed text, abort) with no model, keys or network. The real ones are exercised by
 * the e2e specs.
 */
import { createStore } from 'zustand/vanilla'
import type { AnswerReceipt, CerberusClient, ClientState, Donor, DonorState, GenerateSettings, GenerationMode, ModelSource } from '../../app/types.ts'

/** A {@link CerberusClient} whose generate runs `script`, and which records what it was asked. */
export interface ScriptedClient extends CerberusClient {
  /** Calls of generate, in order. */
  readonly calls: Array<{ prompt: string, settings: GenerateSettings, mode?: GenerationMode }>
  /** Sources passed to start, in order. */
  readonly started: ModelSource[]
  /** How many times stop was called. */
  stopped: number
  /** What the next generate does. */
  script: (emit: (t: string) => void, signal: AbortSignal | undefined) => Promise<AnswerReceipt>
  /** Change the client's state as the real one does (merged; subscribers are told). */
  setState: (s: Partial<ClientState>) => void
}

/** A receipt for `tokens` tokens at 10 tokens/s, from one miner, every result verified; `extra` overrides fields. */
export function receiptOf (tokens: number, extra: Partial<AnswerReceipt> = {}): AnswerReceipt {
  return { tokens, ms: 100 * tokens, bytesUp: 1000, bytesDown: 2000, verified: 20 * tokens, rejected: 0, miners: [{ peerId: '12D3KooWminerA', jobs: 20 * tokens }], ...extra }
}

/** A generate that emits `pieces` then resolves with a receipt. */
export function streams (pieces: string[]): ScriptedClient['script'] {
  return async (emit) => {
    for (const p of pieces) { await Promise.resolve(); emit(p) }
    return receiptOf(pieces.length)
  }
}

/** A generate that emits `first`, then waits for the abort and rejects as fetch does. */
export function untilAborted (first: string): ScriptedClient['script'] {
  return async (emit, signal) => {
    emit(first)
    await new Promise<void>(resolve => { signal?.addEventListener('abort', () => { resolve() }) })
    throw new DOMException('aborted', 'AbortError')
  }
}

/** A ready client (relay connected, one miner, stories260K) whose generate emits "x"; `initial` overrides its state. */
export function scriptedClient (initial: Partial<ClientState> = {}): ScriptedClient {
  const store = createStore<ClientState>(() => ({ status: 'ready', relay: { address: '/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWrelay', connected: true }, peers: [], minersReady: 1, model: { name: 'stories260K.bin', sha256: 'ab', dim: 64, layers: 5, vocab: 512, bytes: 1 }, ...initial }))
  const c: ScriptedClient = {
    calls: [],
    started: [],
    stopped: 0,
    script: streams(['x']),
    setState: (s) => { store.setState(s) },
    store,
    getState: store.getState,
    subscribe: (l) => store.subscribe(l),
    async start (source) { c.started.push(source) },
    async loadModel () {},
    async generate (prompt, settings, opts) {
      c.calls.push({ prompt, settings, ...(opts.mode === undefined ? {} : { mode: opts.mode }) })
      return await c.script(opts.onText, opts.signal)
    },
    async stop () { c.stopped++ }
  }
  return c
}

/** A {@link Donor} that records its calls. */
export interface ScriptedDonor extends Donor {
  /** Calls in order: "start <workers>", "pause", "resume", "stop". */
  readonly log: string[]
}

/** An off donor whose start, pause, resume and stop set its status at once and append to `log`. */
export function scriptedDonor (): ScriptedDonor {
  const store = createStore<DonorState>(() => ({ status: 'off', workers: 0, jobs: 0, failed: 0, bytesIn: 0, bytesOut: 0, computeMs: 0, throughput: [], device: 'cpu', webgpuAvailable: false }))
  const log: string[] = []
  return {
    log,
    store,
    getState: store.getState,
    subscribe: (l) => store.subscribe(l),
    async start ({ workers }) { log.push(`start ${workers}`); store.setState({ status: 'on', workers }) },
    pause () { log.push('pause'); store.setState({ status: 'paused' }) },
    resume () { log.push('resume'); store.setState({ status: 'on' }) },
    async stop () { log.push('stop'); store.setState({ status: 'off' }) }
  }
}
