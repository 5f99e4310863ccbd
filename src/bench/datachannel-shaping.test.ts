// Real WebRTC data channels in Node: node-datachannel's W3C polyfill (libdatachannel, the
// library @libp2p/webrtc itself uses in Node). Bound to 127.0.0.1 so ICE finds host
// candidates on loopback, inside `unshare -n` too.
import { RTCDataChannel, RTCPeerConnection } from 'node-datachannel/polyfill'
import { afterEach, describe, expect, it } from 'vitest'
import { prng } from '../test/fixtures.ts'
import { createLinkShaper } from './link-shaper.ts'
import { shapeDataChannelSends, type ChannelPrototype } from './datachannel-shaping.ts'

const LOOPBACK_ONLY = { iceServers: [], bindAddress: '127.0.0.1' } as RTCConfiguration

/** Two connected peers and an open channel from a to b. */
async function channelPair (): Promise<{ a: RTCPeerConnection, b: RTCPeerConnection, send: RTCDataChannel, recv: RTCDataChannel }> {
  const a = new RTCPeerConnection(LOOPBACK_ONLY)
  const b = new RTCPeerConnection(LOOPBACK_ONLY)
  a.onicecandidate = e => { if (e.candidate !== null) void b.addIceCandidate(e.candidate) }
  b.onicecandidate = e => { if (e.candidate !== null) void a.addIceCandidate(e.candidate) }
  const send = a.createDataChannel('bench')
  send.binaryType = 'arraybuffer'
  const recv = new Promise<RTCDataChannel>(resolve => { b.ondatachannel = e => { e.channel.binaryType = 'arraybuffer'; resolve(e.channel as RTCDataChannel) } })
  const open = new Promise<void>(resolve => { send.onopen = () => { resolve() } })
  await a.setLocalDescription(await a.createOffer())
  await b.setRemoteDescription(a.localDescription as RTCSessionDescriptionInit)
  await b.setLocalDescription(await b.createAnswer())
  await a.setRemoteDescription(b.localDescription as RTCSessionDescriptionInit)
  await open
  return { a, b, send: send as RTCDataChannel, recv: await recv }
}

describe('shaped data channel sends (real RTCDataChannel)', () => {
  const cleanup: Array<() => void> = []
  afterEach(() => { for (const c of cleanup.splice(0).reverse()) c() })

  const shaped = async (): Promise<Awaited<ReturnType<typeof channelPair>> & { link: ReturnType<typeof createLinkShaper> }> => {
    const pair = await channelPair()
    cleanup.push(() => { pair.a.close(); pair.b.close() })
    const link = createLinkShaper({ oneWayMs: 25, bitsPerSecond: 50e6 })
    cleanup.push(() => { link.close() })
    cleanup.push(shapeDataChannelSends(RTCDataChannel.prototype as unknown as ChannelPrototype, link))
    return { ...pair, link }
  }

  it('delivers every message byte for byte and in order, no sooner than the link allows, from a copy', async () => {
    const { send, recv } = await shaped()
    const messages = (seed: number): Uint8Array[] => {
      const rnd = prng(seed)
      return Array.from({ length: 40 }, () => Uint8Array.from({ length: 1 + Math.floor(rnd() * 16_000) }, () => Math.floor(rnd() * 256)))
    }
    const got: Uint8Array[] = []
    let firstAt = 0
    const all = new Promise<void>(resolve => {
      recv.onmessage = e => {
        if (got.length === 0) firstAt = performance.now()
        got.push(new Uint8Array(e.data as ArrayBuffer))
        if (got.length === 40) resolve()
      }
    })
    const t0 = performance.now()
    for (const m of messages(7)) {
      send.send(m)
      m.fill(0) // the caller reuses its buffer: the shaped send must have copied it
    }
    await all
    expect(firstAt - t0).toBeGreaterThanOrEqual(25)
    expect(got).toEqual(messages(7))
  })

  it('a close asked for while sends wait takes effect after the last of them went out', async () => {
    const { send, link } = await shaped()
    const closed = new Promise<number>(resolve => { send.onclose = () => { resolve(link.pending) } })
    for (let i = 0; i < 10; i++) send.send(new Uint8Array(4096))
    send.close()
    // Whether the receiver gets a message sent just before close is the WebRTC stack's
    // business (Chromium finishes sending it, per the W3C closing procedure;
    // libdatachannel sometimes drops it); that the shaper hands every one over first is ours.
    expect(send.readyState).toBe('open')
    expect(link.pending).toBe(10)
    expect(await closed).toBe(0)
  })

  it('restoring the prototype sends unshaped again', async () => {
    const { a, b, send, recv } = await channelPair()
    cleanup.push(() => { a.close(); b.close() })
    const link = createLinkShaper({ oneWayMs: 25, bitsPerSecond: 50e6 })
    cleanup.push(() => { link.close() })
    const restore = shapeDataChannelSends(RTCDataChannel.prototype as unknown as ChannelPrototype, link)
    restore()
    const got = new Promise<string>(resolve => { recv.onmessage = e => { resolve(String(e.data)) } })
    send.send('hello')
    expect(link.pending).toBe(0)
    expect(await got).toBe('hello')
  })
})
