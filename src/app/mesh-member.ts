/**
 * Being on the mesh: a libp2p peer kept connected to its relays, a live table of the
 * announced peers, a book of validators' scores, and this peer's own signed announcements.
 * Users, miners and validators all join the mesh this way; what they announce differs.
 */
import type { PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { keepConnected, type KeepConnected } from '../net/dial.ts'
import { createPeerTable, startAnnouncing, type AnnounceInfo, type Announcer, type PeerTable } from '../net/discovery/index.ts'
import type { CerberusPeer } from '../net/peer.ts'
import { createScoreBook, type ScoreBook } from '../net/scores/index.ts'

/** Options of {@link joinMesh}. */
export interface MeshMemberOptions {
  /** The peer's identity (its announcements are signed with it). */
  readonly privateKey: PrivateKey
  /** Relays to stay connected to (reconnecting with backoff when one goes away). */
  readonly relays: readonly Multiaddr[]
  /** Sees every connect and disconnect of a relay. */
  readonly onRelayChange?: (relay: Multiaddr, connected: boolean) => void
  /** Sees announcements that could not be made or published. */
  readonly onAnnounceError?: (err: unknown) => void
}

/** A peer on the mesh. */
export interface MeshMember {
  readonly peer: CerberusPeer
  readonly table: PeerTable
  /**
   * Validators' score records, for models announced by a miner in `table` or asked for
   * with `wantModel` (records for other models are refused).
   */
  readonly scores: ScoreBook
  /**
   * Keep scores for this model (hex SHA-256) even before a miner of it is in the table
   * (the relay's snapshots of scores and announcements race); returns the release.
   */
  wantModel: (sha256: string) => () => void
  /** Whether any relay is connected now. */
  readonly relayConnected: boolean
  /** Resolves true once a relay is connected (at once if one is), false after `timeoutMs`. */
  untilRelay: (timeoutMs: number) => Promise<boolean>
  /**
   * Start announcing `info()` (asked each time; every `intervalMs`, default discovery's) —
   * once the peer is reachable at what it announces. Again: replaces the previous announcer.
   */
  announce: (info: () => AnnounceInfo, intervalMs?: number) => void
  /** Announce now (after a change the others should see soon: paused, resumed). */
  announceNow: () => Promise<void>
  /** Leave: stop announcing, listening and reconnecting (the peer itself keeps running). */
  leave: () => void
}

/** Join the mesh with `peer`. */
export function joinMesh (peer: CerberusPeer, opts: MeshMemberOptions): MeshMember {
  const table = createPeerTable(peer)
  const wanted = new Map<string, number>()
  const scores = createScoreBook(peer, { knownModel: sha => wanted.has(sha) || table.list().some(e => e.role === 'miner' && e.model?.sha256 === sha) })
  let announcer: Announcer | undefined
  const watches: KeepConnected[] = opts.relays.map(r => keepConnected(peer, r, { onChange: up => opts.onRelayChange?.(r, up) }))
  return {
    peer,
    table,
    scores,
    wantModel (sha256) {
      wanted.set(sha256, (wanted.get(sha256) ?? 0) + 1)
      let released = false
      return () => {
        if (released) return
        released = true
        const n = (wanted.get(sha256) ?? 1) - 1
        if (n > 0) wanted.set(sha256, n)
        else wanted.delete(sha256)
      }
    },
    get relayConnected () { return watches.some(w => w.connected) },
    async untilRelay (timeoutMs) {
      const t0 = Date.now()
      while (!watches.some(w => w.connected)) {
        if (Date.now() - t0 >= timeoutMs) return false
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      return true
    },
    announce (info, intervalMs) {
      announcer?.stop()
      announcer = startAnnouncing(peer, opts.privateKey, info, { ...(intervalMs === undefined ? {} : { intervalMs }), onError: opts.onAnnounceError })
    },
    announceNow: async () => { await announcer?.announceNow() },
    leave () {
      announcer?.stop()
      for (const w of watches) w.stop()
      table.stop()
      scores.stop()
    }
  }
}
