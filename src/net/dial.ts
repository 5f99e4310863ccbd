/**
 * Dialling with a deadline and one retry, and staying connected to the relay.
 *
 * A browser↔browser WebRTC dial through the relay hangs now and then after ICE connects
 * (3–5 % of dials measured here, an @libp2p/webrtc race that we patch on install — see
 * patches/ and docs/06-mesh.md). Every attempt gets {@link PEER_LIMITS}.dialTimeoutMs and
 * one retry, which recovered every hang seen.
 */
import type { Connection, Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { CerberusError } from '../core/errors.ts'
import { PEER_LIMITS } from './peer.ts'

/** A dial failed twice (or was cancelled). */
export class DialError extends CerberusError {
  readonly target: string
  constructor (target: string, message: string, cause?: unknown) {
    super('DIAL_FAILED', message, { cause })
    this.target = target
  }
}

/** Dial `target` with a per-attempt timeout and `retries` more attempts (default 1). */
export async function dialWithRetry (node: Libp2p, target: Multiaddr | Multiaddr[], opts: { signal?: AbortSignal, retries?: number, timeoutMs?: number } = {}): Promise<Connection> {
  const retries = opts.retries ?? 1
  const name = Array.isArray(target) ? target.map(String).join(' | ') : String(target)
  let last: unknown
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (opts.signal?.aborted === true) break
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? PEER_LIMITS.dialTimeoutMs)
    const signal = opts.signal === undefined ? timeout : AbortSignal.any([timeout, opts.signal])
    try {
      return await node.dial(target, { signal })
    } catch (err) {
      last = err
    }
  }
  throw new DialError(name, `could not connect to ${name}: ${(last as Error | undefined)?.message ?? 'cancelled'}`, last)
}

/** What {@link keepConnected} reports. */
export interface KeepConnected {
  /** Whether a connection to the target is open now. */
  readonly connected: boolean
  /** Stop watching (does not close the connection). */
  stop: () => void
}

/**
 * Keep a connection to `target` (the relay): dial it now, and whenever it drops, dial again
 * with a growing pause (0.5 s doubling to `maxBackoffMs`, default 10 s) until it answers.
 * `onChange` sees every connect and disconnect.
 */
export function keepConnected (node: Libp2p, target: Multiaddr, opts: { maxBackoffMs?: number, onChange?: (connected: boolean) => void } = {}): KeepConnected {
  const peer = target.getComponents().find(c => c.name === 'p2p')?.value
  let stopped = false
  let connected = false
  let backoff = 500
  let timer: ReturnType<typeof setTimeout> | undefined
  const set = (c: boolean): void => {
    if (c === connected) return
    connected = c
    opts.onChange?.(c)
  }
  const attempt = async (): Promise<void> => {
    timer = undefined
    if (stopped) return
    try {
      await dialWithRetry(node, target, { retries: 0 })
      backoff = 500
      set(true)
    } catch {
      set(false)
      timer = setTimeout(() => { void attempt() }, backoff)
      backoff = Math.min(backoff * 2, opts.maxBackoffMs ?? 10_000)
    }
  }
  const onDisconnect = (evt: CustomEvent<{ toString: () => string }>): void => {
    if (stopped || peer === undefined || evt.detail.toString() !== peer) return
    set(false)
    if (timer === undefined) timer = setTimeout(() => { void attempt() }, backoff)
  }
  node.addEventListener('peer:disconnect', onDisconnect as EventListener)
  void attempt()
  return {
    get connected () { return connected },
    stop () {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      node.removeEventListener('peer:disconnect', onDisconnect as EventListener)
    }
  }
}
