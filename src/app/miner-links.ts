/**
 * The user's miners: every miner the mesh announces for her model becomes a link in one
 * scheduler (the {@link MinerLink} her private generation uses), connected through its
 * announced addresses on first use; miners the table forgets are removed; a miner whose
 * result failed verification is never taken back. Validators' scores (the member's score
 * book) give each miner a standing for this user (net/scores/standing.ts): a miner that
 * failed validation gets no job, unscored miners a bounded share, and her own rejections
 * weigh against the validators that vouched for the liar. The app's client, the CLI's
 * `generate --relay`, validators and the gateway use it.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { MinerLink } from '../core/engine/index.ts'
import { NETWORKS, splitWays, type NetworkProfile } from '../core/he/index.ts'
import { dialWithRetry } from '../net/dial.ts'
import type { PeerTableEntry } from '../net/discovery/index.ts'
import { meshMinerLink } from '../net/mesh-link.ts'
import { minerScheduler, type MinerScheduler } from '../net/scheduler.ts'
import { minerStandings, standingOf, unscoredShare, type MinerStanding } from '../net/scores/index.ts'
import type { MeshMember } from './mesh-member.ts'

/**
 * A job not answered in this time is given to another miner: stories260K's take ~30 ms, a
 * 768-dim layer's a few hundred ms even over a slow link; 20 s means a miner is stuck.
 */
export const JOB_TIMEOUT_MS = 20_000

/** Options of {@link createMinerLinks}. */
export interface MinerLinksOptions {
  /** The user's session id (miners queue jobs per session). */
  readonly session: string
  /** Only miners announcing this model (SHA-256 of its file) are used. */
  readonly modelSha256: string
  /** The network splitting decisions are made for (default lan). */
  readonly network?: NetworkProfile
  /** Split matrices from this many output blocks on, instead of the planner's choice. */
  readonly splitMinBlocks?: number
  /** Per-job timeout (default {@link JOB_TIMEOUT_MS}). */
  readonly jobTimeoutMs?: number
  /** Tries per job across miners when miners fail (the scheduler's; default 4). */
  readonly maxAttempts?: number
  /** Privacy audits and tests: every frame sent to a miner. */
  readonly onSend?: (frame: Uint8Array) => void
  /** Told when the set of usable miners may have changed (added, removed, dropped, standings). */
  readonly onChange?: () => void
  /** Follow validators' standings (default true); false picks every miner alike, as before validators. */
  readonly standings?: boolean
}

/** Why a miner is no longer used. */
export type DropReason = 'rejected' | 'unreachable'

/** The user's links to the miners of her model. */
export interface MinerLinks {
  /** The model whose miners these are. */
  readonly modelSha256: string
  /** The one link private generation uses. */
  readonly scheduler: MinerScheduler
  /** Miners usable now (announced, not dropped, not failed by validators). */
  readonly ready: number
  /** Failed jobs per miner (timeouts, errors), for the network panel. */
  readonly failed: ReadonlyMap<string, number>
  /** Miners dropped, and why. */
  readonly dropped: ReadonlyMap<string, DropReason>
  /** A miner's standing for this user (validators' median, her own rejections). */
  standing: (peerId: string) => MinerStanding
  /** Each validator's weight for this user (1 until its claims contradict what she knows). */
  validatorWeights: () => ReadonlyMap<string, number>
  /** Match the scheduler to the table now (it also follows every table change). */
  sync: () => void
  /** Stop following the table and close the links. */
  stop: () => void
}

/** Links to the miners `member` sees announcing `opts.modelSha256`. */
export function createMinerLinks (member: MeshMember, opts: MinerLinksOptions): MinerLinks {
  const node = member.peer
  const network = opts.network ?? NETWORKS.lan
  const failed = new Map<string, number>()
  const dropped = new Map<string, DropReason>()
  const caught = new Set<string>() // miners whose results failed her own check
  let judged: ReturnType<typeof minerStandings> | undefined // recomputed after a change
  const judge = (): ReturnType<typeof minerStandings> => {
    judged ??= minerStandings(member.scores.list().filter(r => r.modelSha256 === opts.modelSha256), { caught })
    return judged
  }
  const standing = (peerId: string): MinerStanding => judge().standings.get(peerId) ?? standingOf(peerId, [], judge().weights, { caught })
  const follow = opts.standings ?? true
  // The announcement (its ts) a miner was dropped under: one dropped as unreachable comes
  // back only with a newer announcement — a killed miner stays in the table until it is
  // forgotten (15 s), and taking it back at every table change spent a job's attempts on it.
  const droppedAt = new Map<string, number>()
  const adding = new Set<string>()
  const changed = (): void => { opts.onChange?.() }
  const scheduler = minerScheduler([], {
    maxAttempts: opts.maxAttempts ?? 4,
    ...(opts.splitMinBlocks === undefined ? { split: (p, miners) => splitWays(p, network, miners) } : { splitMinBlocks: opts.splitMinBlocks }),
    onDrop: (m, why) => {
      dropped.set(m, why === 'rejected' ? 'rejected' : 'unreachable')
      if (why === 'rejected') { caught.add(m); judged = undefined }
      droppedAt.set(m, member.table.get(m)?.ts ?? 0)
      changed()
    },
    ...(follow ? { standing: (m: string) => standing(m).status, unscoredShare } : {})
  })
  const releaseModel = member.wantModel(opts.modelSha256)
  // records come in bursts (every validator republishes every miner's): one change per burst
  let telling: ReturnType<typeof setTimeout> | undefined
  const unsubscribeScores = member.scores.subscribe(() => {
    judged = undefined
    telling ??= setTimeout(() => { telling = undefined; changed() }, 0)
  })

  /** A link to a discovered miner: connects through its announced addresses on first use. */
  const linkTo = (entry: PeerTableEntry): MinerLink => {
    const id = peerIdFromString(entry.peerId)
    const inner = meshMinerLink(node, id, { session: opts.session, timeoutMs: opts.jobTimeoutMs ?? JOB_TIMEOUT_MS, onSend: opts.onSend })
    const addrs = (): Multiaddr[] => (member.table.get(entry.peerId)?.addrs ?? entry.addrs).map(a => multiaddr(a))
    return {
      name: entry.peerId,
      prepare: inner.prepare,
      // Packed jobs need the session's Galois keys on the stream, and a removed miner's stream is closed.
      setKeys: inner.setKeys,
      close: inner.close,
      async compute (matrixId, inputs, jobId, blocks) {
        if (node.getConnections(id).every(c => c.limits !== undefined)) await dialWithRetry(node, addrs()).catch(() => {}) // the link reports the failure
        try {
          return await inner.compute(matrixId, inputs, jobId, blocks)
        } catch (err) {
          failed.set(entry.peerId, (failed.get(entry.peerId) ?? 0) + 1)
          throw err
        }
      }
    }
  }

  const sync = (): void => {
    const listed = member.table.list().filter(e => e.role === 'miner' && e.model?.sha256 === opts.modelSha256)
    for (const e of listed) {
      if (scheduler.active.includes(e.peerId) || dropped.get(e.peerId) === 'rejected') continue
      if (dropped.has(e.peerId) && e.ts <= (droppedAt.get(e.peerId) ?? 0)) continue // not heard from since it failed
      if (adding.has(e.peerId)) continue // its link is being handed the session's keys and matrices
      dropped.delete(e.peerId)
      droppedAt.delete(e.peerId)
      adding.add(e.peerId)
      void scheduler.add(linkTo(e)).finally(() => { adding.delete(e.peerId) }).then(changed)
    }
    const ids = new Set(listed.map(e => e.peerId))
    for (const name of scheduler.active) if (!ids.has(name)) scheduler.remove(name)
    // Forgotten by the table: what kept an unreachable miner out goes too (a liar stays refused).
    for (const [m, why] of dropped) if (why === 'unreachable' && !ids.has(m)) { dropped.delete(m); droppedAt.delete(m) }
    changed()
  }
  const unsubscribe = member.table.subscribe(sync)
  sync()

  return {
    modelSha256: opts.modelSha256,
    scheduler,
    get ready () { return scheduler.active.filter(m => !follow || standing(m).status !== 'failed').length },
    failed,
    dropped,
    standing,
    validatorWeights: () => judge().weights,
    sync,
    stop () {
      unsubscribe()
      unsubscribeScores()
      if (telling !== undefined) clearTimeout(telling)
      releaseModel()
      scheduler.close?.()
    }
  }
}

/**
 * After the first miner of her model appears, how long a user waits for the relay's
 * snapshot of validators' scores before she starts anyway: both snapshots come one round
 * trip after the relay connects, so this only matters for a relay that keeps no scores.
 */
export const SCORES_SETTLE_MS = 2_000

/**
 * Resolves true once `links` has a usable miner and the relay's score snapshot is in (or
 * {@link SCORES_SETTLE_MS} passed), so a cheat that validators failed is never picked in
 * the moment before their scores arrive; false after `timeoutMs` or when `signal` aborts.
 */
export async function untilMinersReady (member: MeshMember, links: MinerLinks, opts: { readonly timeoutMs: number, readonly signal?: AbortSignal }): Promise<boolean> {
  const t0 = Date.now()
  let firstReady: number | undefined
  while (opts.signal?.aborted !== true && Date.now() - t0 < opts.timeoutMs) {
    if (links.ready > 0) {
      firstReady ??= Date.now()
      if (member.scores.stats.snapshots > 0 || Date.now() - firstReady >= SCORES_SETTLE_MS) return links.ready > 0
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return false
}
