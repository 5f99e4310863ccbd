import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prng } from '../core/prng.ts'
import { ChecksumMismatchError, DownloadDiskError, DownloadHttpError, fetchDefaultModel, fetchModel, progressBar, UnknownModelError, type DownloadProgress } from './fetch-model.ts'
import { DEFAULT_MODEL_FILES, defaultModelDir } from './model-files.ts'
import { MODEL_REGISTRY, type RegistryFile, type RegistryModel } from './model-registry.ts'

// Test bytes, pinned like the registry pins the real files.
const rand = prng(42)
const bytesA = Uint8Array.from({ length: 300_000 }, () => Math.floor(rand() * 256))
const bytesB = Uint8Array.from({ length: 5_000 }, () => Math.floor(rand() * 256))
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const pin = (file: string, b: Uint8Array): RegistryFile => ({ file, url: `https://example.invalid/${file}`, sha256: sha(b), bytes: b.length, verifiedHere: true })
const TEST_MODEL: RegistryModel = { name: 'test-model', description: 'test bytes', format: 'llama2c', licence: 'test', files: [pin('a.bin', bytesA), pin('b.bin', bytesB)] }
const registry = [TEST_MODEL]
const FILES: Record<string, Uint8Array> = { 'a.bin': bytesA, 'b.bin': bytesB }

/**
 * A loopback stand-in for the model host. /ok/ serves with Range support; /cut/ sends
 * half of a file on a fresh (non-Range) request, then drops the connection; /norange/
 * ignores Range; /bad/ serves a flipped byte; /long/ announces a bigger file.
 */
let server: Server
let base = ''
const requests: Array<{ url: string, range?: string }> = []
beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const [, mode, file] = (req.url ?? '').split('/')
    requests.push({ url: req.url ?? '', ...(req.headers.range === undefined ? {} : { range: req.headers.range }) })
    let body = mode === 'real' ? readModelFile(file) : FILES[file]
    if (body === undefined) { res.writeHead(404).end(); return }
    if (mode === 'bad') { body = body.slice(); body[1000] ^= 1 }
    if (mode === 'long') { res.writeHead(200, { 'content-length': body.length + 10 }).end(Buffer.concat([body, new Uint8Array(10)])); return }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
    if (range !== null && mode !== 'norange') {
      const from = Number(range[1])
      if (from >= body.length) { res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end(); return }
      res.writeHead(206, { 'content-range': `bytes ${from}-${body.length - 1}/${body.length}`, 'content-length': body.length - from }).end(body.subarray(from))
      return
    }
    if (mode === 'cut') {
      res.writeHead(200, { 'content-length': body.length })
      // the cut comes a moment after the half: destroyed at once, the socket can take the half
      // with it before the client reads it (undici then drops what it buffered), and a client
      // with 0 bytes has nothing to resume from — seen once in CI under load
      res.write(body.subarray(0, body.length >> 1), () => { setTimeout(() => res.socket?.destroy(), 100) })
      return
    }
    res.writeHead(200, { 'content-length': body.length }).end(body)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('no port')
  base = `http://127.0.0.1:${addr.port}`
})
afterAll(() => { server.close() })

function readModelFile (file: string): Uint8Array | undefined {
  if (!Object.values(DEFAULT_MODEL_FILES).includes(file as never)) return undefined
  return new Uint8Array(readFileSync(join(defaultModelDir(), file)))
}

const freshDir = (): string => join(mkdtempSync(join(tmpdir(), 'cerberus-fetch-')), 'models')
const via = (mode: string) => (f: RegistryFile): string => `${base}/${mode}/${f.file}`

describe('fetchModel', () => {
  it('downloads every file, verified, with progress up to the total, and leaves no .part behind', async () => {
    const dir = freshDir()
    const seen: DownloadProgress[] = []
    const { paths } = await fetchModel('test-model', { registry, dir, urlOf: via('ok'), onProgress: p => seen.push(p) })
    expect(paths).toEqual([join(dir, 'a.bin'), join(dir, 'b.bin')])
    expect(new Uint8Array(readFileSync(join(dir, 'a.bin')))).toEqual(bytesA)
    expect(new Uint8Array(readFileSync(join(dir, 'b.bin')))).toEqual(bytesB)
    expect(existsSync(join(dir, 'a.bin.part'))).toBe(false)
    expect(seen.filter(p => p.file === 'a.bin').at(-1)).toMatchObject({ done: bytesA.length, total: bytesA.length })
    const before = requests.length
    await fetchModel('TEST-MODEL', { registry, dir, urlOf: via('ok') })
    expect(requests.length).toBe(before) // already there and verified: nothing fetched
  })

  it('resumes with a Range request after the server cuts the connection mid-file', async () => {
    const dir = freshDir()
    const before = requests.length
    const logs: string[] = []
    await fetchModel('test-model', { registry, dir, urlOf: via('cut'), log: l => logs.push(l) })
    expect(new Uint8Array(readFileSync(join(dir, 'a.bin')))).toEqual(bytesA)
    const mine = requests.slice(before).filter(r => r.url.endsWith('a.bin'))
    expect(mine[0].range).toBeUndefined()
    expect(mine[1].range).toMatch(/^bytes=[1-9]\d*-$/)
    expect(logs.some(l => /connection broke at byte \d+ of 300000; resuming/.test(l))).toBe(true)
  })

  it('resumes a .part left by an interrupted run', async () => {
    const dir = freshDir()
    const ac = new AbortController()
    await expect(fetchModel('test-model', { registry, dir, urlOf: via('ok'), signal: ac.signal, onProgress: p => { if (p.done > 0) ac.abort() } })).rejects.toThrow()
    const partial = statSync(join(dir, 'a.bin.part')).size
    expect(partial).toBeGreaterThan(0)
    expect(partial).toBeLessThan(bytesA.length)
    const before = requests.length
    await fetchModel('test-model', { registry, dir, urlOf: via('ok') })
    expect(requests[before].range).toBe(`bytes=${partial}-`)
    expect(new Uint8Array(readFileSync(join(dir, 'a.bin')))).toEqual(bytesA)
  })

  it('starts over when the server ignores Range', async () => {
    const dir = freshDir()
    await import('node:fs/promises').then(async fs => { await fs.mkdir(dir, { recursive: true }); await fs.writeFile(join(dir, 'a.bin.part'), bytesA.subarray(0, 1234)) })
    await fetchModel('test-model', { registry, dir, urlOf: via('norange') })
    expect(new Uint8Array(readFileSync(join(dir, 'a.bin')))).toEqual(bytesA)
  })

  it('refuses bytes that are not the pinned ones and deletes them, .part included', async () => {
    const dir = freshDir()
    const run = fetchModel('test-model', { registry, dir, urlOf: via('bad') })
    await expect(run).rejects.toThrow(ChecksumMismatchError)
    await expect(fetchModel('test-model', { registry, dir, urlOf: via('bad') })).rejects.toThrow(/bad\/a.bin is not the published a.bin: sha256 [0-9a-f]{64}, expected [0-9a-f]{64} \(the download was deleted\)/)
    expect(existsSync(join(dir, 'a.bin'))).toBe(false)
    expect(existsSync(join(dir, 'a.bin.part'))).toBe(false)
  })

  it('refuses a file of the wrong size before downloading it', async () => {
    await expect(fetchModel('test-model', { registry, dir: freshDir(), urlOf: via('long') })).rejects.toThrow(/offers 300010 bytes, the pinned file has 300000/)
  })

  it('reports a 404 with the URL', async () => {
    const err = await fetchModel('test-model', { registry, dir: freshDir(), urlOf: f => `${base}/ok/missing-${f.file}` }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DownloadHttpError)
    expect((err as DownloadHttpError).status).toBe(404)
    expect((err as Error).message).toMatch(/cannot download http:\/\/127.0.0.1:\d+\/ok\/missing-a.bin: HTTP 404 \(not found/)
  })

  it('refuses an unknown name, listing the known ones', async () => {
    await expect(fetchModel('gpt-5')).rejects.toThrow(UnknownModelError)
    await expect(fetchModel('gpt-5')).rejects.toThrow(/no model is called "gpt-5"; known: stories260K, stories15M, stories42M, stories110M, smollm2-135m-instruct/)
  })

  it('says what is wrong with the disk', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cerberus-fetch-')), 'a-file')
    writeFileSync(file, 'x')
    await expect(fetchModel('test-model', { registry, dir: join(file, 'models'), urlOf: via('ok') })).rejects.toThrow(DownloadDiskError)
    await expect(fetchModel('test-model', { registry, dir: join(file, 'models'), urlOf: via('ok') })).rejects.toThrow(/cannot create .*a-file\/models: a parent is not a directory/)
  })

  it('fetches the real stories260K files from a loopback copy (fetchDefaultModel)', async () => {
    const dir = freshDir()
    await fetchDefaultModel(dir, { urlOf: via('real') })
    expect(readFileSync(join(dir, DEFAULT_MODEL_FILES.checkpoint))).toEqual(readFileSync(join(defaultModelDir(), DEFAULT_MODEL_FILES.checkpoint)))
  })
})

describe('the model registry', () => {
  it('names the five models, each file with an https URL, a size and a SHA-256, each model with a licence', () => {
    expect(MODEL_REGISTRY.map(m => m.name)).toEqual(['stories260K', 'stories15M', 'stories42M', 'stories110M', 'smollm2-135m-instruct'])
    for (const m of MODEL_REGISTRY) {
      expect(m.licence).not.toBe('')
      expect(m.files.length).toBe(m.format === 'gguf' ? 1 : 2)
      for (const f of m.files) {
        expect(f.url).toMatch(/^https:\/\//)
        expect(f.sha256).toMatch(/^[0-9a-f]{64}$/)
        expect(f.bytes).toBeGreaterThan(0)
      }
    }
    expect(MODEL_REGISTRY.find(m => m.name === 'stories110M')?.files.map(f => f.file)).toEqual(['stories110M.bin', 'tokenizer.bin'])
  })

  it('pins stories260K as the files here hash (shared/models/stories260K/SHA256SUMS)', () => {
    const sums = readFileSync(join(defaultModelDir(), 'SHA256SUMS'), 'utf8')
    for (const f of MODEL_REGISTRY[0].files) {
      expect(sums).toContain(`${f.sha256}  ${f.file}`)
      expect(statSync(join(defaultModelDir(), f.file)).size).toBe(f.bytes)
      expect(f.verifiedHere).toBe(true)
    }
  })
})

describe('progressBar', () => {
  it('redraws one line on a terminal and prints a line per 10 % otherwise', () => {
    const tty: string[] = []
    const pipe: string[] = []
    const a = progressBar({ isTTY: true, write: s => tty.push(s) })
    const b = progressBar({ isTTY: false, write: s => pipe.push(s) })
    for (let done = 0; done <= 1000; done += 50) {
      a({ file: 'f', done, total: 1000, resumedFrom: 0 })
      b({ file: 'f', done, total: 1000, resumedFrom: 0 })
    }
    expect(tty.every(s => s.startsWith('\r'))).toBe(true)
    expect(tty.at(-1)).toMatch(/\[#{30}\] 100 %/)
    expect(pipe).toHaveLength(11)
  })
})
