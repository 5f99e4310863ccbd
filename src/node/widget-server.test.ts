import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWidgetServer, type WidgetServer } from './widget-server.ts'

describe('widget server', () => {
  let root: string
  let srv: WidgetServer
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'cerberus-widget-'))
    mkdirSync(join(root, 'widget', 'assets'), { recursive: true })
    mkdirSync(join(root, 'models'))
    writeFileSync(join(root, 'widget', 'cerberus-chat.js'), 'export const TAG = "cerberus-chat"\n')
    writeFileSync(join(root, 'widget', 'assets', 'seal-x.wasm'), new Uint8Array([0, 97, 115, 109]))
    writeFileSync(join(root, 'secret.txt'), 'not for the web')
    writeFileSync(join(root, 'models', 'tok512.bin'), new Uint8Array(8))
    srv = await startWidgetServer({ widgetDir: join(root, 'widget'), modelDir: join(root, 'models') })
  })
  afterAll(async () => {
    await srv.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('serves the script and the .wasm readable from any origin, with their MIME types', async () => {
    const js = await fetch(srv.scriptUrl, { headers: { Origin: 'http://localhost:1234' } })
    expect(js.status).toBe(200)
    expect(js.headers.get('access-control-allow-origin')).toBe('*')
    expect(js.headers.get('cross-origin-resource-policy')).toBe('cross-origin')
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(await js.text()).toContain('cerberus-chat')
    const wasm = await fetch(`${srv.origin}/widget/assets/seal-x.wasm`)
    expect(wasm.headers.get('content-type')).toBe('application/wasm')
    expect(wasm.headers.get('cache-control')).toContain('immutable')
  })

  it('serves nothing outside the build folder', async () => {
    for (const p of ['/widget/../secret.txt', '/widget/%2e%2e/secret.txt', '/widget/..%2fsecret.txt', '/secret.txt', '/widget/', '/widget/assets']) {
      const r = await fetch(`${srv.origin}${p}`)
      expect(r.status, p).toBe(404)
      expect(await r.text()).not.toContain('not for the web')
    }
    expect((await fetch(srv.scriptUrl, { method: 'POST' })).status).toBe(405)
  })

  it('serves the default model cross-origin', async () => {
    const r = await fetch(`${srv.origin}/models/default/tok512.bin`)
    expect(r.status).toBe(200)
    expect(r.headers.get('access-control-allow-origin')).toBe('*')
    expect((await r.arrayBuffer()).byteLength).toBe(8)
    expect((await fetch(`${srv.origin}/models/default/stories260K.bin`)).status).toBe(404)
  })
})
