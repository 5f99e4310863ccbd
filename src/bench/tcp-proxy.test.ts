import { createServer, connect, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { prng } from '../test/fixtures.ts'
import { createLinkShaper, type LinkShaper } from './link-shaper.ts'
import { startShapedProxy, type ShapedProxy } from './tcp-proxy.ts'

// The wan link of issue 12, one way: 25 ms, 50 Mbit/s.
const WAN = { oneWayMs: 25, bitsPerSecond: 50e6 }
const serializationMs = (bytes: number): number => (bytes * 8000) / WAN.bitsPerSecond

/** An echo server on loopback: writes back what it reads, ends when the client ends; counts bytes seen before the end. */
async function echoServer (): Promise<{ server: Server, port: number, endsAfter: number[] }> {
  const endsAfter: number[] = []
  const server = createServer({ allowHalfOpen: true }, s => {
    let seen = 0
    s.on('data', (d: Buffer) => { seen += d.byteLength; s.write(d) })
    s.on('end', () => { endsAfter.push(seen); s.end() })
    s.on('error', () => {})
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const a = server.address()
  if (a === null || typeof a === 'string') throw new Error('no address')
  return { server, port: a.port, endsAfter }
}

function randomBytes (n: number, seed: number): Uint8Array {
  const rnd = prng(seed)
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256)
  return b
}

/** Send `data` in 16 KiB writes, half-close, and collect the echo until the server ends. */
async function roundTrip (port: number, data: Uint8Array): Promise<{ echo: Buffer, ms: number }> {
  const t0 = performance.now()
  const s: Socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true })
  const parts: Buffer[] = []
  s.on('data', (d: Buffer) => { parts.push(d) })
  const done = new Promise<void>((resolve, reject) => { s.on('end', resolve); s.on('error', reject) })
  for (let i = 0; i < data.length; i += 16_384) s.write(data.subarray(i, i + 16_384))
  s.end()
  await done
  s.destroy()
  return { echo: Buffer.concat(parts), ms: performance.now() - t0 }
}

describe('shaped TCP proxy', () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c()
  })
  const shaper = (): LinkShaper => {
    const l = createLinkShaper(WAN)
    cleanup.push(() => { l.close() })
    return l
  }
  const start = async (targetPort: number, up: LinkShaper, down: LinkShaper, maxQueuedBytes?: number): Promise<ShapedProxy> => {
    const p = await startShapedProxy({ targetPort, toTarget: up, fromTarget: down, maxQueuedBytes })
    cleanup.push(async () => { await p.close() })
    return p
  }
  const echo = async (): Promise<Awaited<ReturnType<typeof echoServer>>> => {
    const e = await echoServer()
    cleanup.push(async () => { await new Promise<void>(resolve => e.server.close(() => { resolve() })) })
    return e
  }

  it('carries 1 MiB each way byte for byte, in order, no sooner than the link allows; the half-close arrives after the data', async () => {
    const e = await echo()
    const p = await start(e.port, shaper(), shaper())
    const data = randomBytes(1 << 20, 12)
    const r = await roundTrip(p.port, data)
    expect(r.echo.equals(Buffer.from(data))).toBe(true)
    expect(e.endsAfter).toEqual([data.length])
    // the last byte is serialized up, flies 25 ms, is echoed and flies 25 ms back
    expect(r.ms).toBeGreaterThanOrEqual(serializationMs(data.length) + 2 * WAN.oneWayMs)
  })

  it('stays byte-exact when a small queue bound makes it pause and resume its sockets', async () => {
    const e = await echo()
    const p = await start(e.port, shaper(), shaper(), 32 * 1024)
    const data = randomBytes(512 * 1024, 13)
    const r = await roundTrip(p.port, data)
    expect(r.echo.equals(Buffer.from(data))).toBe(true)
  })

  it('proxies sharing the dialler\'s uplink share its rate', async () => {
    const e = await echo()
    const up = shaper()
    const [a, b] = [await start(e.port, up, shaper()), await start(e.port, up, shaper())]
    const [da, db] = [randomBytes(256 * 1024, 14), randomBytes(256 * 1024, 15)]
    const t0 = performance.now()
    const [ra, rb] = await Promise.all([roundTrip(a.port, da), roundTrip(b.port, db)])
    expect(ra.echo.equals(Buffer.from(da))).toBe(true)
    expect(rb.echo.equals(Buffer.from(db))).toBe(true)
    // both uploads went through one 50 Mbit/s queue
    expect(performance.now() - t0).toBeGreaterThanOrEqual(serializationMs(da.length + db.length) + 2 * WAN.oneWayMs)
  })

  it('close cuts open connections', async () => {
    const e = await echo()
    const p = await start(e.port, shaper(), shaper())
    const s = connect({ host: '127.0.0.1', port: p.port })
    s.on('error', () => {})
    await new Promise<void>(resolve => s.once('connect', () => { resolve() }))
    // the proxy sees the connection once the event loop has accepted it
    while (p.connections === 0) await new Promise(resolve => setTimeout(resolve, 5))
    const closed = new Promise<void>(resolve => s.once('close', () => { resolve() }))
    await p.close()
    await closed
    expect(s.destroyed).toBe(true)
  })
})
