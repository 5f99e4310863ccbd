import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, describe, expect, it } from 'vitest'
import { startRelay, type Relay } from '../../../signaling-server/relay.ts'
import { prng } from '../../test/fixtures.ts'
import { createPeer, type CerberusPeer } from '../peer.ts'
import { createPeerTable, startAnnouncing } from '../discovery/index.ts'
import { decodeRecordSnapshot, encodeRecordSnapshot } from '../snapshots.ts'
import { createScoreBook, createScoreBookState, decodeScore, SCORE_LIMITS, SCORE_SNAPSHOT, ScoreError, SCORES_TOPIC, signScore, startScorePublisher, type ScoreError as ScoreErrorType, type ScoreRecord } from './index.ts'

const cleanup: Array<() => Promise<void> | void> = []
afterAll(async () => { for (const c of cleanup.reverse()) await c() })

const SHA = 'cd'.repeat(32)

async function keyed (): Promise<{ key: PrivateKey, id: string }> {
  const key = await generateKeyPair('Ed25519')
  return { key, id: peerIdFromPrivateKey(key).toString() }
}

const MINER = (await keyed()).id

function record (validatorId: string, ts: number, extra: Partial<ScoreRecord> = {}): ScoreRecord {
  return { v: 1, validatorId, minerId: MINER, modelSha256: SHA, epoch: 3, ts, jobs: 120, passed: 118, failed: 0, p50Ms: 21, p95Ms: 64, ...extra }
}

async function refusal (p: Promise<unknown> | (() => unknown)): Promise<ScoreErrorType> {
  const err = typeof p === 'function' ? (() => { try { p(); return undefined } catch (e) { return e } })() : await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(ScoreError)
  return err as ScoreErrorType
}

async function until (cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not reached in ${ms} ms`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

describe('score records (codec)', () => {
  it('round-trips every field, in at most maxBytes', async () => {
    const { key, id } = await keyed()
    const s = record(id, 1_750_000_000_000, { failed: 2, passed: 100 })
    const bytes = await signScore(key, s)
    expect(bytes.length).toBeLessThanOrEqual(SCORE_LIMITS.maxBytes)
    expect(bytes.length).toBeLessThan(300)
    expect(await decodeScore(bytes, id, s.ts + 1000)).toEqual(s)
  })

  it('refuses a forged signature, another sender, a stale, future or oversized record, and bad fields, with typed errors', async () => {
    const { key, id } = await keyed()
    const other = await keyed()
    const now = Date.now()
    const bytes = await signScore(key, record(id, now))
    const forged = bytes.slice()
    forged[forged.length - 1] ^= 1
    expect((await refusal(decodeScore(forged, id, now))).reason).toBe('signature')
    const lifted = bytes.slice()
    lifted[lifted.length - 64 - 16] ^= 1 // passed 118 → 119: the body changed, the signature did not
    expect((await refusal(decodeScore(lifted, id, now))).reason).toBe('signature')
    expect((await refusal(decodeScore(bytes, other.id, now))).reason).toBe('sender')
    expect((await refusal(decodeScore(bytes, id, now + SCORE_LIMITS.maxAgeMs + 1))).reason).toBe('stale')
    expect((await refusal(decodeScore(bytes, id, now - SCORE_LIMITS.maxSkewMs - 1))).reason).toBe('future')
    const big = new Uint8Array(SCORE_LIMITS.maxBytes + 1)
    big.set(bytes)
    expect((await refusal(decodeScore(big, id, now))).reason).toBe('malformed')
    expect((await refusal(decodeScore(bytes.subarray(0, 64), id, now))).reason).toBe('malformed')
    // a validator cannot sign nonsense, nor for another key
    expect((await refusal(signScore(key, record(id, now, { passed: 200 })))).message).toMatch(/of only 120 jobs/)
    expect((await refusal(signScore(key, record(id, now, { p50Ms: 100, p95Ms: 10 })))).message).toMatch(/above the 95th/)
    expect((await refusal(signScore(key, record(id, now, { minerId: id })))).message).toMatch(/scores itself/)
    expect((await refusal(signScore(key, record(other.id, now)))).message).toMatch(/not the key of validator/)
  })

  it('10,000 fuzzed records (random bytes and mutations of a genuine one) are each refused with a ScoreError, never anything else', async () => {
    const { key, id } = await keyed()
    const now = Date.now()
    const genuine = await signScore(key, record(id, now))
    const rand = prng(14)
    let accepted = 0
    const reasons = new Map<string, number>()
    for (let i = 0; i < 10_000; i++) {
      let b: Uint8Array
      if (i % 3 === 0) b = Uint8Array.from({ length: Math.floor(rand() * 700) }, () => Math.floor(rand() * 256))
      else {
        b = genuine.slice()
        for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) b[Math.floor(rand() * b.length)] ^= 1 + Math.floor(rand() * 255)
        if (rand() < 0.2) b = b.slice(0, Math.floor(rand() * b.length))
      }
      try {
        await decodeScore(b, id, now)
        accepted++
      } catch (err) {
        expect(err).toBeInstanceOf(ScoreError)
        const r = (err as ScoreErrorType).reason
        reasons.set(r, (reasons.get(r) ?? 0) + 1)
      }
    }
    expect(accepted).toBe(0) // every mutation breaks either the structure or the signature
    expect(reasons.get('malformed')).toBeGreaterThan(1000)
    expect(reasons.get('signature')).toBeGreaterThan(1000)
  })

  it('a snapshot of records round-trips; a bad record in it is refused on its own', async () => {
    const { key, id } = await keyed()
    const now = Date.now()
    const good = await signScore(key, record(id, now))
    const bad = good.slice()
    bad[bad.length - 1] ^= 1
    const snap = encodeRecordSnapshot(SCORE_SNAPSHOT, [{ receivedAt: now - 500, bytes: good }, { receivedAt: now, bytes: bad }], now)
    const entries = await decodeRecordSnapshot(SCORE_SNAPSHOT, snap, now)
    expect(entries[0]).toMatchObject({ ok: true, ageMs: 500, value: { validatorId: id, passed: 118 } })
    expect(entries[1]).toMatchObject({ ok: false, error: { reason: 'signature' } })
    await expect(decodeRecordSnapshot(SCORE_SNAPSHOT, snap.subarray(0, snap.length - 1), now)).rejects.toBeInstanceOf(ScoreError)
  })
})

describe('the score book (state)', () => {
  it('keeps the latest record per validator and miner; refuses replays, spam, unknown models and validators past its bound; forgets silent ones', async () => {
    let t = 1_000_000
    const book = createScoreBookState({ now: () => t, knownModel: sha => sha === SHA, maxValidators: 2, forgetAfterMs: 5000 })
    const [a, b, c] = [await keyed(), await keyed(), await keyed()]
    const bytes = new Uint8Array(0) // the state keeps bytes for snapshots; their checks are decodeScore's
    expect(book.offer(record(a.id, t), bytes)).toBe('added')
    expect((await refusal(() => book.offer(record(a.id, t), bytes))).reason).toBe('replayed')
    expect((await refusal(() => book.offer(record(a.id, t - 1), bytes))).reason).toBe('replayed')
    expect((await refusal(() => book.offer(record(a.id, t + 10), bytes))).reason).toBe('rate') // the same pair within a second
    t += 1500
    expect(book.offer(record(a.id, t, { passed: 119 }), bytes)).toBe('updated')
    expect(book.forMiner(MINER)).toMatchObject([{ validatorId: a.id, passed: 119 }])
    expect((await refusal(() => book.offer(record(b.id, t, { modelSha256: 'ef'.repeat(32) }), bytes))).reason).toBe('model')
    expect(book.offer(record(b.id, t), bytes)).toBe('added')
    expect((await refusal(() => book.offer(record(c.id, t), bytes))).reason).toBe('full')
    t += 4000
    expect(book.offer(record(b.id, t), bytes)).toBe('updated')
    t += 2000 // a's record is now 6 s old: forgotten
    expect(book.list().map(r => r.validatorId)).toEqual([b.id])
    expect(book.offer(record(c.id, t), bytes)).toBe('added') // its slot is free again
  })

  it('a spamming validator is cut off by its bucket; an honest one republishing every miner is not', async () => {
    let t = 0
    const book = createScoreBookState({ now: () => t })
    const spam = await keyed()
    const honest = await keyed()
    const miners = await Promise.all(Array.from({ length: 300 }, async () => (await keyed()).id))
    let took = 0
    let cut = 0
    for (let i = 0; i < 2000; i++) {
      try {
        book.offer(record(spam.id, 1 + i * 1000, { minerId: miners[i % 256] }), new Uint8Array(0))
        took++
      } catch (err) {
        expect((err as ScoreErrorType).reason).toMatch(/rate|full/)
        cut++
      }
    }
    expect(took).toBeLessThanOrEqual(512)
    expect(cut).toBeGreaterThan(1400)
    for (let round = 0; round < 5; round++) {
      t += 10_000
      for (let m = 0; m < 256; m++) expect(book.offer(record(honest.id, t, { minerId: miners[m] }), new Uint8Array(0))).toMatch(/added|updated/)
    }
  })
})

describe('scores on the mesh (relay, gossip, snapshots)', () => {
  let relay: Relay
  const peers: CerberusPeer[] = []
  const peer = async (key?: PrivateKey, listen = false): Promise<CerberusPeer> => {
    const p = await createPeer({ ...(listen ? { listenPort: 0 } : {}), ...(key === undefined ? {} : { privateKey: key }) })
    peers.push(p)
    cleanup.push(async () => { await p.stop() })
    return p
  }

  it('the relay keeps valid records and hands them to a newcomer; forged, replayed, stale, oversized, unknown-model and spammed ones are refused there and by the user; a validator that stops ages out', async () => {
    relay = await startRelay({ port: 0, healthPort: 0 })
    cleanup.push(async () => { await relay.stop() })
    const relayAddr = multiaddr(relay.multiaddrs[0])
    // a miner of the model, so that the model is known
    const m = await keyed()
    const minerNode = await peer(m.key, true)
    const announcer = startAnnouncing(minerNode, m.key, () => ({ role: 'miner', addrs: minerNode.getMultiaddrs().map(String), model: { name: 'stories260K', sha256: SHA }, presets: ['n2048'], capacity: 1, load: 0 }), { intervalMs: 300 })
    cleanup.push(() => { announcer.stop() })
    await minerNode.dial(relayAddr)
    await until(() => relay.health().announcements.miners === 1, 5000, 'the relay seeing the miner')

    // an honest validator publishes every 400 ms
    const v = await keyed()
    const vNode = await peer(v.key)
    const publisher = startScorePublisher(vNode, v.key, () => [{ minerId: m.id, modelSha256: SHA, epoch: 1, jobs: 40, passed: 40, failed: 0, p50Ms: 12, p95Ms: 30 }], { intervalMs: 400 })
    cleanup.push(() => { publisher.stop() })
    await vNode.dial(relayAddr)
    await until(() => relay.health().scores.records === 1, 8000, 'the relay keeping the record')

    // a newcomer sees it at once, from the relay's snapshot
    const u = await keyed()
    const uNode = await peer(u.key)
    const table = createPeerTable(uNode)
    const refused: ScoreErrorType[] = []
    const book = createScoreBook(uNode, { knownModel: sha => sha === SHA, forgetAfterMs: 1500, onReject: e => refused.push(e) })
    cleanup.push(() => { book.stop(); table.stop() })
    await uNode.dial(relayAddr)
    await until(() => book.stats.snapshots === 1 && book.forMiner(m.id).length === 1, 5000, 'the snapshot')
    expect(book.forMiner(m.id)[0]).toMatchObject({ validatorId: v.id, passed: 40, failed: 0 })

    // an attacker talks to the relay and to the user directly
    const a = await keyed()
    const aNode = await peer(a.key)
    await aNode.dial(relayAddr)
    await until(() => aNode.services.pubsub.getSubscribers(SCORES_TOPIC).length >= 1, 5000, 'the attacker seeing the relay subscribed')
    const before = relay.health().scores
    const now = Date.now()
    const own = await signScore(a.key, record(a.id, now, { minerId: m.id }))
    const forged = own.slice()
    forged[forged.length - 3] ^= 0x10
    const genuine = book.forMiner(m.id)[0].bytes
    const payloads: Array<[Uint8Array, string]> = [
      [forged, 'signature'],
      [genuine, 'sender'], // the validator's own record, re-published by the attacker
      [await signScore(a.key, record(a.id, now - 120_000, { minerId: m.id })), 'stale'],
      [await signScore(a.key, record(a.id, now + 60_000, { minerId: m.id })), 'future'],
      [Uint8Array.from({ length: 2000 }, (_, i) => own[i % own.length]), 'malformed'], // oversized
      [await signScore(a.key, record(a.id, now, { minerId: m.id, modelSha256: 'ef'.repeat(32) })), 'model']
    ]
    // spam: one miner scored 300 times within a second, and 300 made-up miners (the book holds 256 per validator)
    for (let i = 0; i < 300; i++) payloads.push([await signScore(a.key, record(a.id, now + i, { minerId: m.id })), 'rate'])
    for (let i = 0; i < 300; i++) payloads.push([await signScore(a.key, record(a.id, now, { minerId: (await keyed()).id })), 'full'])
    const rand = prng(21)
    for (let i = 0; i < 200; i++) {
      const b = own.slice()
      b[Math.floor(rand() * b.length)] ^= 1 + Math.floor(rand() * 255)
      payloads.push([b, 'garbage'])
    }
    for (const [b] of payloads) await aNode.services.pubsub.publish(SCORES_TOPIC, b)
    const seen = (h: typeof before): number => h.accepted + Object.values(h.rejected).reduce((x, y) => x + y, 0)
    await until(() => seen(relay.health().scores) - seen(before) >= payloads.length, 20_000, 'the relay judging every record')
    const after = relay.health().scores
    for (const reason of ['signature', 'sender', 'stale', 'future', 'malformed', 'model', 'rate', 'full'] as const) expect(after.rejected[reason] - before.rejected[reason], reason).toBeGreaterThan(0)
    expect(after.rejected.rate - before.rejected.rate).toBeGreaterThanOrEqual(299)
    // the relay kept at most one record per miner for the attacker (256), and the honest validator's
    expect(after.records).toBeLessThanOrEqual(257)
    expect(after.validators).toBe(2)
    expect(relay.health().status).toBe('ok')
    for (const e of refused) expect(e).toBeInstanceOf(ScoreError)
    // the honest validator's record keeps coming (the book refreshes it)
    const ts = book.forMiner(m.id).find(r => r.validatorId === v.id)?.ts ?? 0
    await until(() => (book.forMiner(m.id).find(r => r.validatorId === v.id)?.ts ?? 0) > ts, 5000, 'a fresh record of the honest validator')

    // the validator stops: its record ages out of the user's book; nothing else breaks
    publisher.stop()
    await until(() => book.forMiner(m.id).every(r => r.validatorId !== v.id), 5000, 'the stopped validator\'s record forgotten')
    expect(table.get(m.id)).toBeDefined()
  })
})
