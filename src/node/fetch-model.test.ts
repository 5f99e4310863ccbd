import { createServer, type Server } from 'node:http'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fetchDefaultModel, FetchModelError } from './fetch-model.ts'
import { DEFAULT_MODEL_FILES, defaultModelDir } from './model-files.ts'

// A loopback server standing in for the model host: /good/* serves the real files,
// /bad/* serves a corrupted checkpoint.
let server: Server
let base = ''
beforeAll(async () => {
  const dir = defaultModelDir()
  server = createServer((req, res) => {
    const [, kind, file] = (req.url ?? '').split('/')
    if (!Object.values(DEFAULT_MODEL_FILES).includes(file as never)) { res.writeHead(404).end(); return }
    const bytes = readFileSync(join(dir, file))
    if (kind === 'bad' && file === DEFAULT_MODEL_FILES.checkpoint) bytes[100] ^= 1
    res.writeHead(200, { 'content-length': bytes.byteLength }).end(bytes)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('no port')
  base = `http://127.0.0.1:${addr.port}`
})
afterAll(() => { server.close() })

describe('fetchDefaultModel', () => {
  it('downloads and verifies both files', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cerberus-fetch-')), 'm')
    await fetchDefaultModel(dir, { baseUrl: `${base}/good` })
    expect(readFileSync(join(dir, DEFAULT_MODEL_FILES.checkpoint))).toEqual(readFileSync(join(defaultModelDir(), DEFAULT_MODEL_FILES.checkpoint)))
    expect(existsSync(join(dir, DEFAULT_MODEL_FILES.tokenizer))).toBe(true)
  })

  it('refuses bytes that are not the published ones, leaving nothing behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cerberus-fetch-'))
    await expect(fetchDefaultModel(dir, { baseUrl: `${base}/bad` })).rejects.toThrow(FetchModelError)
    await expect(fetchDefaultModel(dir, { baseUrl: `${base}/bad` })).rejects.toThrow(/is not the published stories260K.bin: sha256 [0-9a-f]{64}, expected b0a507e7/)
    expect(existsSync(join(dir, DEFAULT_MODEL_FILES.checkpoint))).toBe(false)
  })

  it('reports an HTTP error with the URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cerberus-fetch-'))
    await expect(fetchDefaultModel(dir, { baseUrl: `${base}/missing/x` })).rejects.toThrow(/cannot download http:\/\/127.0.0.1:\d+\/missing\/x\/stories260K.bin: HTTP 404/)
  })
})
