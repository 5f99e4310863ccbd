/**
 * The CLI user's components for private generation: an in-process miner (`--engine he`),
 * or miners on the mesh — at given addresses (`--miner`), or found through a relay
 * (`--relay`, their signed announcements for this model) — behind one scheduler.
 * `generate --relay` and `serve --relay` share {@link relayMiners}.
 */
import type { DropReason, MeshMember, MinerLinks, PrivateGenerationComponents } from '../app/index.ts'
import { UsageError } from './args.ts'
import type { CliIo } from './options.ts'

/** How long `--relay` waits for a first miner of the model. */
const FIND_MINERS_MS = 30_000

/**
 * The components, what to call them in the summary line, tries per job, how to let go of
 * them, and (through a relay) what the receipt adds: each miner's standing and each
 * validator's weight for this user.
 */
export interface PrivateMiners {
  readonly components: PrivateGenerationComponents
  readonly label: string
  readonly attempts: number
  readonly standings?: () => { standings: unknown[], validators: unknown[] }
  close: () => Promise<void>
}

function multiaddrOf (multiaddr: (s: string) => import('@multiformats/multiaddr').Multiaddr, flag: string, a: string): import('@multiformats/multiaddr').Multiaddr {
  try {
    return multiaddr(a)
  } catch {
    throw new UsageError(`--${flag} must be a multiaddr like /ip4/127.0.0.1/tcp/9100/ws/p2p/12D3…, got "${a}"`)
  }
}

/** The miners of one model on the mesh, followed through a relay: the user's scheduler over them, and how to leave. */
export interface RelayMiners {
  readonly links: MinerLinks
  readonly member: MeshMember
  close: () => Promise<void>
}

/**
 * Join the mesh through `relay` (a fresh identity, announced as a user) and follow the
 * miners announcing the model: miners found later join the scheduler as they appear.
 * It does not wait for any (`generate` waits; `serve` answers 503 until one is there).
 * @throws {UsageError} for a relay address that is not a multiaddr ending in /p2p/<id>.
 */
export async function relayMiners (opts: { relay: string, modelSha256: string, session: string, onDrop: (miner: string, why: DropReason) => void }): Promise<RelayMiners> {
  const { multiaddr } = await import('@multiformats/multiaddr')
  const relay = multiaddrOf(multiaddr, 'relay', opts.relay)
  if (!relay.getComponents().some(c => c.name === 'p2p')) throw new UsageError(`--relay must end in /p2p/<the relay's peer id> (printed by "cerberus relay"), got "${opts.relay}"`)
  const { generateKeyPair } = await import('@libp2p/crypto/keys')
  const { createPeer } = await import('../net/peer.ts')
  const { joinMesh, createMinerLinks } = await import('../app/index.ts')
  const privateKey = await generateKeyPair('Ed25519')
  const peer = await createPeer({ privateKey })
  const member = joinMesh(peer, { privateKey, relays: [relay] })
  member.announce(() => ({ role: 'user' as const, addrs: [], presets: [], capacity: 0, load: 0 }))
  const seen = new Set<string>()
  // onChange runs inside createMinerLinks too, before its result is assigned.
  const ref: { links?: MinerLinks } = {}
  const links = createMinerLinks(member, {
    session: opts.session,
    modelSha256: opts.modelSha256,
    onChange: () => {
      for (const [m, why] of ref.links?.dropped ?? []) if (!seen.has(m)) { seen.add(m); opts.onDrop(m, why) }
    }
  })
  ref.links = links
  return { links, member, close: async () => { links.stop(); member.leave(); await peer.stop() } }
}

/** Build them. */
export async function privateMiners (opts: { engine: 'he' | 'mesh', miners: readonly string[], relay?: string, modelSha256: string, io: CliIo }): Promise<PrivateMiners> {
  // The user's HE runs in this process (a CLI has no UI thread to keep free).
  const { localHe } = await import('../core/engine/index.ts')
  const { loadSeal } = await import('../core/he/index.ts')
  const local = localHe(await loadSeal())
  const user = local.session
  if (opts.engine === 'he') {
    return {
      components: { session: local.session, miners: local.miner },
      label: '',
      attempts: 1,
      close: async () => { local.session.close?.(); local.miner.close?.() }
    }
  }
  const session = crypto.randomUUID()
  const onDrop = (m: string, why: DropReason | 'failed'): void => { opts.io.stderr(`dropped miner ${m}: ${why === 'rejected' ? 'a result failed verification' : 'it failed repeatedly'}\n`) }
  if (opts.relay !== undefined) {
    const mesh = await relayMiners({ relay: opts.relay, modelSha256: opts.modelSha256, session, onDrop })
    const { untilMinersReady } = await import('../app/index.ts')
    const { links, member } = mesh
    const close = async (): Promise<void> => { await mesh.close(); user.close?.(); local.miner.close?.() }
    // Waits for a first miner and for the validators' scores (or a short settle time), so no job goes to a failed miner.
    const found = await untilMinersReady(member, links, { timeoutMs: FIND_MINERS_MS })
    if (!found) {
      await close()
      throw new UsageError(`no miner for this model (sha256 ${opts.modelSha256.slice(0, 12)}…) was announced through ${opts.relay} within ${FIND_MINERS_MS / 1000} s; start one with "cerberus miner --relay …"`)
    }
    const listed = (): string[] => member.table.list().filter(e => e.role === 'miner' && e.model?.sha256 === opts.modelSha256).map(e => e.peerId)
    for (const m of listed()) {
      const s = links.standing(m)
      if (s.status !== 'trusted') opts.io.stderr(`miner ${m}: ${s.status} (${s.reason})${s.status === 'failed' ? ': no job will go to it' : ''}
`)
    }
    const standings = (): { standings: unknown[], validators: unknown[] } => ({
      standings: listed().map(peerId => ({ peerId, ...links.standing(peerId) })),
      validators: [...links.validatorWeights()].map(([peerId, weight]) => ({ peerId, weight }))
    })
    return { components: { session: user, miners: links.scheduler }, label: `${links.ready} miner(s) found through the relay`, attempts: 3, standings, close }
  }
  const { multiaddr } = await import('@multiformats/multiaddr')
  const { createPeer } = await import('../net/peer.ts')
  const { meshMinerLink } = await import('../net/mesh-link.ts')
  const { minerScheduler } = await import('../net/scheduler.ts')
  const addrs = opts.miners.map(a => multiaddrOf(multiaddr, 'miner', a))
  const peer = await createPeer()
  const links = addrs.map(a => meshMinerLink(peer, a, { session }))
  const miners = links.length === 1 ? links[0] : minerScheduler(links, { onDrop })
  return {
    components: { session: user, miners },
    label: links.length === 1 ? links[0].name : `${links.length} miners`,
    attempts: links.length > 1 ? 3 : 1,
    close: async () => { miners.close?.(); user.close?.(); local.miner.close?.(); await peer.stop() }
  }
}
