/**
 * `cerberus scores`: the standings of the announced miners, from the validators' score
 * records a relay holds — the median over validators, as a user with no evidence of her
 * own would see it — as a table, or as JSON (one object per miner).
 */
import { UsageError } from './args.ts'
import { parse, parseRelays, type CliIo } from './options.ts'

/** Help of `scores`. */
export const SCORES_USAGE = `scores:
  --relay MULTIADDR   the relay to ask (its announcements and validators' scores)
  --json              one JSON object per miner: peerId, model, status (trusted |
                      unscored | failed), validators (how many vouch), against, passed,
                      failed, p50Ms, reason
`

/** How long `scores` waits for the relay and its two snapshots. */
const WAIT_MS = 10_000

/** One miner in the output. */
export interface ScoresRow {
  readonly peerId: string
  readonly model: string
  readonly status: 'trusted' | 'unscored' | 'failed'
  /** Validators vouching for it (counted with their weight), and those that saw wrong results. */
  readonly validators: number
  readonly against: number
  readonly passed: number
  readonly failed: number
  readonly p50Ms: number | null
  readonly reason: string
}

/** Run `scores`. */
export async function cmdScores (args: string[], io: CliIo): Promise<void> {
  const v = parse(args, { relay: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } })
  if (v.help === true) return io.stdout(SCORES_USAGE)
  if (v.relay === undefined) throw new UsageError('scores needs --relay MULTIADDR (printed by "cerberus relay")')
  const relays = await parseRelays([v.relay])
  const { generateKeyPair } = await import('@libp2p/crypto/keys')
  const { joinMesh } = await import('../app/index.ts')
  const { createPeer } = await import('../net/peer.ts')
  const { minerStandings } = await import('../net/scores/index.ts')
  const privateKey = await generateKeyPair('Ed25519')
  const peer = await createPeer({ privateKey })
  const member = joinMesh(peer, { privateKey, relays })
  try {
    const t0 = Date.now()
    while ((member.table.stats.snapshots === 0 || member.scores.stats.snapshots === 0) && Date.now() - t0 < WAIT_MS) await new Promise(resolve => setTimeout(resolve, 50))
    if (!member.relayConnected) throw new UsageError(`cannot reach the relay at ${v.relay} within ${WAIT_MS / 1000} s`)
    // scores of a model are kept once a miner of it is known: ask again now that the table is in
    await member.scores.refresh()
    const rows: ScoresRow[] = []
    const miners = member.table.list().filter(e => e.role === 'miner' && e.model !== undefined)
    for (const sha of new Set(miners.map(e => e.model?.sha256 as string))) {
      const { standings } = minerStandings(member.scores.list().filter(r => r.modelSha256 === sha))
      for (const e of miners.filter(m => m.model?.sha256 === sha)) {
        const s = standings.get(e.peerId)
        rows.push({ peerId: e.peerId, model: sha, status: s?.status ?? 'unscored', validators: s?.vouches ?? 0, against: s?.against ?? 0, passed: s?.passed ?? 0, failed: s?.failed ?? 0, p50Ms: s?.p50Ms ?? null, reason: s?.reason ?? 'no validator has checked it yet' })
      }
    }
    if (v.json === true) {
      io.stdout(JSON.stringify(rows, null, 2) + '\n')
      return
    }
    if (rows.length === 0) { io.stdout('no miner is announced through this relay\n'); return }
    io.stdout(`${'miner'.padEnd(54)} ${'status'.padEnd(9)} vouch  against  passed  failed  p50 ms  why\n`)
    for (const r of rows) io.stdout(`${r.peerId.padEnd(54)} ${r.status.padEnd(9)} ${String(r.validators).padStart(5)}  ${String(r.against).padStart(7)}  ${String(r.passed).padStart(6)}  ${String(r.failed).padStart(6)}  ${String(r.p50Ms ?? '-').padStart(6)}  ${r.reason}\n`)
  } finally {
    member.leave()
    await peer.stop()
  }
}
