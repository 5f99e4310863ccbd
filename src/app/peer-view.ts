/**
 * Small helpers shared by the client and the donor: how a connection is made, and the
 * error shape the UI shows.
 */
import type { Connection } from '@libp2p/interface'
import { CerberusError } from '../core/errors.ts'
import type { ConnectionKind } from './types.ts'

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
