import type { ConnectionKind, PeerView } from '../../app/types.ts'
import { formatMs, plural, shortPeerId } from '../format.ts'
import { useClient, useSpeed } from '../state/hooks.ts'
import { Sparkline } from './sparkline.tsx'

const CONNECTION: Record<ConnectionKind, string> = {
  webrtc: 'WebRTC direct',
  websocket: 'WebSocket',
  relayed: 'relayed (handshake only)',
  none: 'not connected'
}

const GROUPS: ReadonlyArray<{ role: PeerView['role'], title: string }> = [
  { role: 'miner', title: 'Miners' },
  { role: 'validator', title: 'Validators' },
  { role: 'user', title: 'Users' },
  { role: 'relay', title: 'Relay' }
]

const STANDING: Record<NonNullable<PeerView['standing']>['status'], string> = {
  trusted: 'trusted',
  unscored: 'unscored',
  failed: 'failed validation'
}

/** A miner's standing: a badge (trusted, unscored, failed), how many validators vouch, and why it is avoided. */
function StandingBadge ({ s }: { s: NonNullable<PeerView['standing']> }) {
  const counts = `${plural(s.vouches, 'validator')} vouch${s.against > 0 ? `, ${s.against} saw wrong results` : ''}`
  // unscored miners get a bounded share only while a trusted one is usable; the reason says why it is unscored
  const why = s.status === 'failed' ? `avoided: ${s.reason}` : s.reason
  return (
    <span className='peer-standing' data-standing={s.status} title={counts}>
      <span className={s.status === 'trusted' ? 'badge badge-ok' : 'badge badge-warn'}>{STANDING[s.status]}</span>
      <span className='peer-facts'>{why}</span>
    </span>
  )
}

function PeerLine ({ p }: { p: PeerView }) {
  const parts = [CONNECTION[p.connection]]
  if (p.latencyMs !== undefined) parts.push(formatMs(p.latencyMs))
  if (p.load !== undefined) parts.push(p.capacity !== undefined ? `load ${p.load}/${p.capacity}` : `load ${p.load}`)
  if (p.role !== 'relay') parts.push(`${plural(p.jobs, 'job')}${p.failed > 0 ? `, ${p.failed} failed` : ''}`)
  return (
    <li className={p.dropped !== undefined || p.standing?.status === 'failed' ? 'peer peer-dropped' : 'peer'} data-peer={p.peerId}>
      <code title={p.peerId}>{shortPeerId(p.peerId)}</code>
      <span className='peer-facts'>{parts.join(' · ')}</span>
      {p.standing !== undefined && <StandingBadge s={p.standing} />}
      {p.dropped !== undefined && <span className='badge badge-warn'>{p.dropped === 'rejected' ? 'dropped: a result failed verification' : 'dropped: unreachable'}</span>}
    </li>
  )
}

/** Who this tab knows on the mesh, how it reaches them, and how fast answers come. */
export function NetworkPanel () {
  const peers = useClient(s => s.peers)
  const relay = useClient(s => s.relay)
  const minersReady = useClient(s => s.minersReady)
  const samples = useSpeed(s => s.samples)
  const speeds = samples.map(s => s.tokensPerSecond)
  const last = speeds.at(-1)

  return (
    <section className='panel network' aria-labelledby='network-heading'>
      <h2 id='network-heading'>Network</h2>
      <p className='hint'>
        Relay {relay.connected ? 'connected' : 'not connected'}; {plural(minersReady, 'miner')} ready for this model.
      </p>
      {GROUPS.map(g => {
        const list = peers.filter(p => p.role === g.role)
        if (list.length === 0 && g.role !== 'miner') return null
        return (
          <div key={g.role} className='peer-group'>
            <h3>{g.title} ({list.length})</h3>
            {list.length === 0 ? <p className='hint'>None seen yet.</p> : <ul className='peer-list'>{list.map(p => <PeerLine key={p.peerId} p={p} />)}</ul>}
          </div>
        )
      })}
      <h3>Speed</h3>
      <p className='hint'>{last === undefined ? 'Tokens per second of each answer appear here.' : `Last answer: ${last.toFixed(1)} tokens/s (${plural(speeds.length, 'answer')} plotted).`}</p>
      {speeds.length >= 2 && <Sparkline values={speeds} label={`Tokens per second per answer, oldest first; last ${(last ?? 0).toFixed(1)}`} />}
    </section>
  )
}
