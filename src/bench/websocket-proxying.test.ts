import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { formatPortMap, MAX_PROXIED_PORTS, parsePortMap, PortMapError, proxiedUrl, proxyWebSockets } from './websocket-proxying.ts'

describe('websocket proxying', () => {
  it('parses and formats port maps', () => {
    const m = parsePortMap('41001-52001,41002-52002')
    expect([...m]).toEqual([[41001, 52001], [41002, 52002]])
    expect(formatPortMap(m)).toBe('41001-52001,41002-52002')
  })

  it('refuses malformed maps with a typed error', () => {
    for (const bad of ['', '41001', '41001-', '-52001', '1-2-3', '0-5', '70000-1', 'a-b', '1-2,1-3', '01234567-1', ' 1-2']) {
      expect(() => parsePortMap(bad), bad).toThrow(PortMapError)
    }
    expect(() => parsePortMap(Array.from({ length: MAX_PROXIED_PORTS + 1 }, (_, i) => `${i + 1}-${i + 2}`).join(','))).toThrow(PortMapError)
  })

  it('rewrites only mapped ports on 127.0.0.1', () => {
    const m = parsePortMap('41001-52001')
    expect(proxiedUrl('ws://127.0.0.1:41001/', m)).toBe('ws://127.0.0.1:52001/')
    expect(proxiedUrl('ws://127.0.0.1:41002/', m)).toBe('ws://127.0.0.1:41002/')
    expect(proxiedUrl('ws://localhost:41001/', m)).toBe('ws://localhost:41001/')
    expect(proxiedUrl(new URL('wss://127.0.0.1:41001/x'), m)).toBe('wss://127.0.0.1:52001/x')
  })

  it('a WebSocket made after proxyWebSockets dials the proxy port (Node\'s own WebSocket)', async () => {
    const requests: string[] = []
    const server = createServer(s => {
      s.on('data', d => { requests.push(d.toString()); s.destroy() })
      s.on('error', () => {})
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const a = server.address()
    if (a === null || typeof a === 'string') throw new Error('no address')
    const scope = { WebSocket: globalThis.WebSocket }
    const restore = proxyWebSockets(new Map([[41001, a.port]]), scope)
    const ws = new scope.WebSocket('ws://127.0.0.1:41001/')
    await new Promise<void>(resolve => { ws.onerror = () => { resolve() }; ws.onclose = () => { resolve() } })
    restore()
    expect(scope.WebSocket).toBe(globalThis.WebSocket)
    await new Promise<void>(resolve => server.close(() => { resolve() }))
    // the upgrade request reached the proxy's port (the miner's port was never dialled)
    expect(requests.join('')).toMatch(new RegExp(`^GET / HTTP/1.1\\r\\n[\\s\\S]*host: 127\\.0\\.0\\.1:${a.port}`, 'i'))
  })
})
