/**
 * Shaped WebRTC data channels for `bench mesh --link` (issue 12 item 4): each bench tab
 * wraps `RTCDataChannel.prototype.send` so what it sends waits on its own
 * {@link LinkShaper} (its uplink: RTT/2 and the link's rate, shared by all its channels)
 * before the browser gets it. Two tabs that each shape what they send shape both
 * directions between them.
 *
 * What is shaped: every message libp2p sends on a data channel — the Noise handshake on a
 * new connection, stream flags (FIN, FIN_ACK, RESET) and data. What is not: the relay
 * (WebSocket; it carries the WebRTC signalling), ICE/DTLS, and SCTP's own acknowledgements
 * and flow control, which run at loopback speed. `bufferedAmount` does not count what
 * waits in the shaper (libp2p's backpressure sees an empty buffer; the shaper paces).
 * A channel closed while sends wait is closed right after the last of them went to the
 * browser, which then finishes sending what it had buffered before it closes (the W3C
 * closing procedure), as it would have without the shaper.
 *
 * Written against the prototype's shape, not the DOM type, so a Node test drives it with
 * a real RTCDataChannel (node-datachannel's).
 */
import type { LinkShaper } from './link-shaper.ts'

/** What a data channel's `send` takes. */
export type ChannelData = string | Blob | ArrayBuffer | ArrayBufferView

/** The part of an RTCDataChannel the shaping uses. */
export interface ShapeableChannel {
  readonly readyState: string
  send: (data: ChannelData) => void
  close: () => void
}

/** A channel prototype (`RTCDataChannel.prototype`). */
export interface ChannelPrototype {
  send: (this: ShapeableChannel, data: ChannelData) => void
  close: (this: ShapeableChannel) => void
}

const encoder = new TextEncoder()

/** Its size on the wire, and a copy the caller cannot change (the native send copies at once too). */
function snapshot (data: ChannelData): { bytes: number, data: ChannelData } {
  if (typeof data === 'string') return { bytes: encoder.encode(data).byteLength, data }
  if (data instanceof ArrayBuffer) return { bytes: data.byteLength, data: data.slice(0) }
  if (ArrayBuffer.isView(data)) return { bytes: data.byteLength, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() }
  return { bytes: data.size, data } // a Blob is immutable
}

/**
 * Shape every send on channels of `proto` through `link`, from now on. Returns a function
 * that restores the prototype (sends already queued still go out).
 */
export function shapeDataChannelSends (proto: ChannelPrototype, link: LinkShaper): () => void {
  const send = proto.send
  const close = proto.close
  const waiting = new WeakMap<ShapeableChannel, number>()
  const closeAfter = new WeakSet<ShapeableChannel>()
  proto.send = function (data) {
    // Not open: the native send throws (or drops) as it would have; nothing to shape.
    if (this.readyState !== 'open') { send.call(this, data); return }
    const s = snapshot(data)
    waiting.set(this, (waiting.get(this) ?? 0) + 1)
    link.send(s.bytes, () => {
      const left = (waiting.get(this) ?? 1) - 1
      waiting.set(this, left)
      if (this.readyState === 'open') {
        // Sent late, a failure cannot reach the caller: close the channel so its stream
        // fails visibly instead of waiting for a message that never comes.
        try { send.call(this, s.data) } catch { close.call(this) }
      }
      if (left === 0 && closeAfter.has(this)) {
        closeAfter.delete(this)
        close.call(this)
      }
    })
  }
  proto.close = function () {
    if ((waiting.get(this) ?? 0) > 0) { closeAfter.add(this); return }
    close.call(this)
  }
  return () => {
    proto.send = send
    proto.close = close
  }
}
