/**
 * The miner node — the one assembly of a miner, used by the donor tab, `cerberus miner`
 * and the coming GPU miner: the miner service for a model on a libp2p peer, computing with
 * injected compute (a worker pool), on the mesh (relays kept, signed announcements of its
 * addresses, model, capacity and load).
 *
 * @example
 * ```ts
 * const node = await startMinerNode({ model, relays, privateKey, capacity: 2, addrs: () => peer.getMultiaddrs().map(String) }, { peer, compute: pool })
 * node.pause() // new jobs answered MINER_BUSY; announced at once
 * await node.stop()
 * ```
 */
import type { PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { SECURE_PRESETS } from '../core/he/index.ts'
import type { SqueezedModel } from '../core/squeeze/index.ts'
import { ANNOUNCE_LIMITS } from '../net/discovery/index.ts'
import { startMinerService, type MinerCompute, type MinerService, type MinerServiceOptions } from '../net/miner-service.ts'
import type { CerberusPeer } from '../net/peer.ts'
import { joinMesh, type MeshMember } from './mesh-member.ts'

/**
 * How a miner squeezes its model: the matrices are what every user's plan uses (fusion and
 * folding are deterministic; both round layouts are served), while each job brings its own
 * plan — so the miner skips measuring its matrices' packed noise bounds (seconds per
 * matrix), which only a user's planner needs.
 */
export const MINER_SQUEEZE = Object.freeze({ scheme: 'coeff' } as const)

/** Options of {@link startMinerNode}. */
export interface MinerNodeOptions {
  /** The model served: its name and hash (what users pick miners by) and its squeezed matrices. */
  readonly model: { readonly name: string, readonly sha256: string, readonly squeezed: SqueezedModel }
  /** The peer's identity (announcements are signed with it). */
  readonly privateKey: PrivateKey
  /** Relays to stay connected to and announce through. */
  readonly relays: readonly Multiaddr[]
  /** Jobs it can run at once (announced; its workers). */
  readonly capacity: number
  /** The addresses users dial (asked at each announcement). */
  readonly addrs: () => string[]
  /** Resolves once the peer is reachable at `addrs` (a donor's relay reservation); default at once. */
  readonly reachable?: () => Promise<void>
  readonly announceIntervalMs?: number
  /** TEST ONLY: a miner that lies (see MinerServiceOptions). */
  readonly tamper?: MinerServiceOptions['tamper']
  /** Sees every request as it arrives (tests of validators' disguise). */
  readonly onRequest?: MinerServiceOptions['onRequest']
  readonly onRelayChange?: (relay: Multiaddr, connected: boolean) => void
  readonly onAnnounceError?: (err: unknown) => void
}

/** What a miner node is built from. */
export interface MinerNodeComponents {
  readonly peer: CerberusPeer
  /** What computes the encrypted products (a worker pool). */
  readonly compute: MinerCompute
}

/** A running miner node. */
export interface MinerNode {
  readonly peerId: string
  readonly service: MinerService
  readonly member: MeshMember
  /** Refuse new jobs (MINER_BUSY) and say so on the mesh; `resume` undoes it. */
  pause: () => void
  resume: () => void
  /** Stop serving and leave the mesh (the peer and the compute stay the caller's). */
  stop: () => Promise<void>
}

/** Serve `opts.model` on `components.peer`. */
export async function startMinerNode (opts: MinerNodeOptions, components: MinerNodeComponents): Promise<MinerNode> {
  const { peer, compute } = components
  const service = await startMinerService(peer, opts.model.squeezed, compute, { tamper: opts.tamper, onRequest: opts.onRequest })
  const member = joinMesh(peer, { privateKey: opts.privateKey, relays: opts.relays, onRelayChange: opts.onRelayChange, onAnnounceError: opts.onAnnounceError })
  try {
    await opts.reachable?.()
  } catch (err) {
    member.leave()
    await service.stop()
    throw err
  }
  member.announce(() => ({
    role: 'miner' as const,
    addrs: opts.addrs().slice(0, ANNOUNCE_LIMITS.maxAddrs),
    model: { name: opts.model.name, sha256: opts.model.sha256 },
    presets: SECURE_PRESETS.map(p => p.name),
    capacity: service.paused ? 0 : opts.capacity,
    load: service.queued
  }), opts.announceIntervalMs)
  const setPaused = (p: boolean): void => {
    service.paused = p
    void member.announceNow()
  }
  return {
    peerId: peer.peerId.toString(),
    service,
    member,
    pause: () => { setPaused(true) },
    resume: () => { setPaused(false) },
    async stop () {
      member.leave()
      await service.stop()
    }
  }
}
