/**
 * The user's miner links against a peer table she is given (no relay, no gossip): a real
 * libp2p peer dials the announced addresses, so a miner that is gone fails for real.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createServer } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { planMatvec } from '../core/he/index.ts'
import { createPeerTableState, type Announcement, type PeerTable } from '../net/discovery/index.ts'
import { createPeer, type CerberusPeer } from '../net/peer.ts'
import { createScoreBook } from '../net/scores/index.ts'
import type { MeshMember } from './mesh-member.ts'
import { createMinerLinks } from './miner-links.ts'

const SHA = 'ab'.repeat(32)
const peers: CerberusPeer[] = []
afterAll(async () => { for (const p of peers) await p.stop() })

/** A port nothing listens on (one just closed). */
async function closedPort (): Promise<number> {
  const s = createServer()
  await new Promise<void>(resolve => { s.listen(0, '127.0.0.1', resolve) })
  const port = (s.address() as { port: number }).port
  await new Promise<void>(resolve => { s.close(() => { resolve() }) })
  return port
}

/** A member of no mesh: its table is what the test offers it; no validator scores come. */
function memberWith (peer: CerberusPeer): { member: MeshMember, offer: (a: Announcement) => void } {
  const state = createPeerTableState()
  const table: PeerTable = { list: state.list, get: state.get, subscribe: state.subscribe, stats: { accepted: 0, ignored: 0, rejected: { malformed: 0, sender: 0, signature: 0, stale: 0, future: 0 }, snapshots: 0 }, stop: () => {} }
  const scores = createScoreBook(peer)
  const member: MeshMember = { peer, table, scores, wantModel: () => () => {}, relayConnected: false, untilRelay: async () => false, announce: () => {}, announceNow: async () => {}, leave: () => { scores.stop() } }
  return { member, offer: a => { state.offer(a, new Uint8Array(0)) } }
}

async function announcementOfDeadMiner (ts: number): Promise<Announcement> {
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  return { v: 1, peerId: id, role: 'miner', addrs: [`/ip4/127.0.0.1/tcp/${await closedPort()}/ws/p2p/${id}`], model: { name: 'm', sha256: SHA }, presets: ['n2048'], capacity: 1, load: 0, ts }
}

async function until (cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not reached in 10 s`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

describe('the user\'s miner links', () => {
  it('a miner dropped as unreachable is not taken back at the next table change, only once it announces again', async () => {
    const peer = await createPeer()
    peers.push(peer)
    const { member, offer } = memberWith(peer)
    const links = createMinerLinks(member, { session: 's', modelSha256: SHA, maxAttempts: 1 })
    const now = Date.now()
    const dead = await announcementOfDeadMiner(now)
    offer(dead)
    await until(() => links.ready === 1, 'the announced miner in the scheduler')
    const { plan } = planMatvec(64, 64)
    await links.scheduler.prepare('m', plan, new Int8Array(64 * 64))
    await expect(links.scheduler.compute('m', [new Uint8Array(8)], 'job-1')).rejects.toMatchObject({ code: 'MINER_UNREACHABLE' })
    expect(links.dropped.get(dead.peerId)).toBe('unreachable')
    expect(links.ready).toBe(0)

    // Another miner appears (a table change): the dead one stays out — it said nothing since.
    offer(await announcementOfDeadMiner(now))
    await until(() => links.ready === 1, 'the other miner in the scheduler')
    links.sync()
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(links.scheduler.active).not.toContain(dead.peerId)

    // It announces again (a newer record): it is taken back.
    offer({ ...dead, ts: now + 1 })
    await until(() => links.scheduler.active.includes(dead.peerId), 'the miner taken back after a newer announcement')
    expect(links.dropped.has(dead.peerId)).toBe(false)
    links.stop()
  })
})
