/**
 * The network panel's view of the mesh: every announced peer (and the relay) with how this
 * peer is connected to it, its last ping, its load, and what it did for us — plus the
 * pinger that measures the latencies, and the error shape the UI shows.
 */
import type { Connection } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { CerberusError } from '../core/errors.ts'
import type { MeshMember } from './mesh-member.ts'
import type { MinerLinks } from './miner-links.ts'
import type { ConnectionKind, PeerView } from './types.ts'

/** How often the views' latencies are measured. */
export const PING_INTERVAL_MS = 10_000

/** The best open connection's kind: WebRTC direct, WebSocket, relayed (limited), or none. */
export function connectionKind (conns: readonly Connection[]): ConnectionKind {
  const open = conns.filter(c => c.status === 'open')
  const addr = (c: Connection): string => c.remoteAddr.toString()
  if (open.some(c => c.limits === undefined && addr(c).includes('/webrtc'))) return 'webrtc'
  if (open.some(c => c.limits === undefined && addr(c).includes('/ws'))) return 'websocket'
  if (open.length > 0) return 'relayed'
  return 'none'
}

/** An error as the UI shows it: a code and a message meant for people. */
export function publicError (err: unknown): { code: string, message: string } {
  if (err instanceof CerberusError) return { code: err.code, message: err.message }
  if (err instanceof Error) return { code: err.name, message: err.message }
  return { code: 'ERROR', message: String(err) }
}

/** The peers as the network panel shows them. */
export interface PeerViews {
  /** The views now (the relay first). */
  list: () => PeerView[]
  stop: () => void
}

/**
 * Views of `member`'s mesh; `links` (when the user has a model) adds jobs, failures and
 * drops. `onChange` is told when a ping or a connection changed something.
 */
export function createPeerViews (member: MeshMember, relay: string, links: () => MinerLinks | undefined, onChange: () => void): PeerViews {
  const node = member.peer
  const latency = new Map<string, number>()
  const relayId = multiaddr(relay).getComponents().find(c => c.name === 'p2p')?.value
  const pinger = setInterval(() => {
    for (const c of node.getConnections()) {
      if (c.limits !== undefined) continue
      const id = c.remotePeer.toString()
      void (node.services.ping as { ping: (p: typeof c.remotePeer) => Promise<number> }).ping(c.remotePeer).then(ms => { latency.set(id, ms) }, () => {})
    }
    onChange()
  }, PING_INTERVAL_MS)
  node.addEventListener('connection:open', onChange)
  node.addEventListener('connection:close', onChange)
  return {
    list () {
      const l = links()
      const standing = (e: { peerId: string, role: string, model?: { sha256: string } }): PeerView['standing'] => {
        if (l === undefined || e.role !== 'miner' || e.model?.sha256 !== l.modelSha256) return undefined
        const s = l.standing(e.peerId)
        return { status: s.status, vouches: s.vouches, against: s.against, reason: s.reason }
      }
      const views: PeerView[] = member.table.list().map(e => ({
        peerId: e.peerId,
        role: e.role,
        connection: connectionKind(node.getConnections(peerIdFromString(e.peerId))),
        latencyMs: latency.get(e.peerId),
        load: e.load,
        capacity: e.capacity,
        jobs: l?.scheduler.answered.get(e.peerId) ?? 0,
        failed: l?.failed.get(e.peerId) ?? 0,
        dropped: l?.dropped.get(e.peerId),
        lastSeen: e.ts,
        modelSha256: e.model?.sha256,
        standing: standing(e)
      }))
      if (relayId !== undefined) views.unshift({ peerId: relayId, role: 'relay', connection: connectionKind(node.getConnections(peerIdFromString(relayId))), latencyMs: latency.get(relayId), jobs: 0, failed: 0 })
      return views
    },
    stop () {
      clearInterval(pinger)
      node.removeEventListener('connection:open', onChange)
      node.removeEventListener('connection:close', onChange)
    }
  }
}
