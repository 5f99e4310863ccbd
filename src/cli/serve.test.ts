/**
 * `cerberus serve` against the official `openai` client, on loopback: the gateway started
 * in-process as the CLI starts it (an embedded miner in worker threads, the user's keys in
 * their own worker thread, the real stories260K model, real SEAL). Greedy answers are
 * exactly what `cerberus generate --engine w8a8` prints; each error status comes from a
 * real request.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { startRelay, type Relay } from '../../signaling-server/relay.ts'
import { startMinerNode } from '../app/index.ts'
import { squeezeModel } from '../core/squeeze/index.ts'
import { createPeer } from '../net/peer.ts'
import { inThreadPort } from '../workers/he-port.in-thread.ts'
import { createMinerPool } from '../workers/index.ts'
import { encode } from '../core/model/index.ts'
import type { AnswerInfo } from '../gateway/index.ts'
import { loadModelFiles } from '../node/model-files.ts'
import { main } from './main.ts'
import { parseServeArgs, startServe, type ServeOptions, type Serving } from './serve.ts'

const PROMPT = 'Once upon a time'
const NEW_TOKENS = 10
const BASE: ServeOptions = { port: 0, host: '127.0.0.1', mode: 'embedded', fallbackLocal: false, workers: 1, network: 'loopback' }

let embedded: Serving
const answers: AnswerInfo[] = []
const waiters: Array<(a: AnswerInfo) => void> = []
const others: Serving[] = []
let relay: Relay | undefined
/** `serve --relay` to `relay`, started with no miner on the mesh. */
let relayServing: Serving | undefined
let openai: OpenAI

/** The next answer the embedded gateway reports (its pipeline finished or stopped). */
async function nextAnswer (): Promise<AnswerInfo> {
  return await new Promise(resolve => { waiters.push(resolve) })
}

const quiet = { stdout: () => {}, stderr: () => {} }

/** What `cerberus generate --engine w8a8 --temperature 0` prints for `prompt` and `newTokens`, without the echoed prompt. */
async function w8a8Continuation (prompt: string, newTokens: number): Promise<string> {
  const model = await loadModelFiles()
  const steps = encode(model.tokenizer, prompt).length - 1 + newTokens
  const out: Buffer[] = []
  const code = await main(['generate', '--engine', 'w8a8', '--temperature', '0', '--steps', String(steps), '--prompt', prompt], { stdout: b => { out.push(Buffer.from(b)) }, stderr: () => {} })
  expect(code).toBe(0)
  const text = Buffer.concat(out).toString('utf8')
  // run.c echoes the prompt and ends with a newline; an API answer is only the continuation
  expect(text.startsWith(prompt) && text.endsWith('\n')).toBe(true)
  return text.slice(prompt.length, -1)
}

function clientFor (s: Serving, apiKey = 'unused'): OpenAI {
  return new OpenAI({ baseURL: s.gateway.baseUrl, apiKey, maxRetries: 0 })
}

async function status (p: Promise<unknown>): Promise<{ status?: number, param?: string | null, code?: string | null, type?: string }> {
  try {
    await p
  } catch (err) {
    if (err instanceof OpenAI.APIError) return { status: err.status, param: err.param, code: err.code, type: err.type }
    throw err
  }
  throw new Error('the request succeeded')
}

let expected: string

beforeAll(async () => {
  expected = await w8a8Continuation(PROMPT, NEW_TOKENS)
  embedded = await startServe({ ...BASE, maxWaiting: 1, onAnswer: a => { answers.push(a); waiters.shift()?.(a) } }, quiet)
  openai = clientFor(embedded)
})

afterAll(async () => {
  for (const s of [embedded, ...others]) await s?.close()
  await relay?.stop()
})

describe('cerberus serve --embedded, through the openai client', () => {
  it('lists its model', async () => {
    const list = await openai.models.list()
    expect(list.data.map(m => m.id)).toEqual(['stories260K'])
  })

  it('a greedy completion, whole and streamed, is exactly the text of generate --engine w8a8', async () => {
    const whole = await openai.completions.create({ model: 'stories260K', prompt: PROMPT, max_tokens: NEW_TOKENS, temperature: 0 })
    expect(whole.object).toBe('text_completion')
    expect(whole.choices[0].text).toBe(expected)
    expect(whole.choices[0].finish_reason).toBe('length')
    expect(whole.usage).toEqual({ prompt_tokens: 5, completion_tokens: NEW_TOKENS, total_tokens: 5 + NEW_TOKENS })
    const receipt = (whole as unknown as { cerberus: { mode: string, verified: number, rejected: number, bytesUp: number, miners: Array<{ peerId: string, jobs: number }> } }).cerberus
    expect(receipt).toMatchObject({ mode: 'private', rejected: 0, miners: [{ peerId: 'embedded' }] })
    expect(receipt.verified).toBeGreaterThan(NEW_TOKENS * 10)
    expect(receipt.bytesUp).toBeGreaterThan(0)

    let text = ''
    let finish: string | null = null
    for await (const c of await openai.completions.create({ model: 'stories260K', prompt: PROMPT, max_tokens: NEW_TOKENS, temperature: 0, stream: true })) {
      text += c.choices[0].text
      finish = c.choices[0].finish_reason ?? finish
    }
    expect(text).toBe(expected)
    expect(finish).toBe('length')
  })

  it('a greedy chat answer, whole and streamed, is the same text (one user message: its content is the prompt)', async () => {
    const messages = [{ role: 'user' as const, content: PROMPT }]
    const whole = await openai.chat.completions.create({ model: 'stories260K', messages, max_tokens: NEW_TOKENS, temperature: 0 })
    expect(whole.object).toBe('chat.completion')
    expect(whole.choices[0].message).toMatchObject({ role: 'assistant', content: expected })
    expect(whole.usage?.completion_tokens).toBe(NEW_TOKENS)

    const chunks = []
    for await (const c of await openai.chat.completions.create({ model: 'stories260K', messages, max_tokens: NEW_TOKENS, temperature: 0, stream: true, stream_options: { include_usage: true } })) chunks.push(c)
    expect(chunks.every(c => c.object === 'chat.completion.chunk')).toBe(true)
    expect(chunks[0].choices[0].delta.role).toBe('assistant')
    const withChoices = chunks.filter(c => c.choices.length > 0)
    expect(withChoices.map(c => c.choices[0].delta.content ?? '').join('')).toBe(expected)
    expect(withChoices.at(-1)?.choices[0].finish_reason).toBe('length')
    expect(withChoices.slice(0, -1).every(c => c.choices[0].finish_reason === null)).toBe(true)
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 5, completion_tokens: NEW_TOKENS, total_tokens: 5 + NEW_TOKENS } })
  })

  it('a stop sequence cuts the text where it begins and ends the answer', async () => {
    const stop = expected.slice(12, 16) // inside the greedy text, so it must be found
    const cutAt = expected.indexOf(stop)
    const whole = await openai.completions.create({ model: 'stories260K', prompt: PROMPT, max_tokens: NEW_TOKENS + 20, temperature: 0, stop: [stop, 'zzzz'] })
    expect(whole.choices[0].text).toBe(expected.slice(0, cutAt))
    expect(whole.choices[0].finish_reason).toBe('stop')
    expect(whole.usage?.completion_tokens).toBeLessThan(NEW_TOKENS)
    let text = ''
    for await (const c of await openai.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: PROMPT }], max_tokens: NEW_TOKENS + 20, temperature: 0, stop, stream: true })) text += c.choices[0]?.delta.content ?? ''
    expect(text).toBe(expected.slice(0, cutAt))
  })

  it('frames its event stream as OpenAI does, byte for byte', async () => {
    const res = await fetch(`${embedded.gateway.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: PROMPT }], max_tokens: 3, temperature: 0, stream: true })
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const body = await res.text()
    // only `data: <one line of JSON>` events, each followed by one blank line, and [DONE] last
    expect(body).toMatch(/^(data: \{[^\n]*\}\n\n)+data: \[DONE\]\n\n$/)
    const events = body.split('\n\n').filter(e => e !== '').map(e => e.slice('data: '.length))
    expect(events.at(-1)).toBe('[DONE]')
    const chunks = events.slice(0, -1).map(e => JSON.parse(e) as { id: string, choices: Array<{ delta: { role?: string, content?: string }, finish_reason: string | null }> })
    expect(new Set(chunks.map(c => c.id)).size).toBe(1)
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' })
    expect(chunks.at(-1)?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'length' })
    expect(chunks.slice(1, -1).map(c => c.choices[0].delta.content).join('')).toBe(await w8a8Continuation(PROMPT, 3))
  })

  it('a client that aborts its stream stops the generation: the pipeline sees the abort, no further jobs', async () => {
    const controller = new AbortController()
    const ended = nextAnswer()
    const stream = await openai.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: PROMPT }], max_tokens: 400, temperature: 0, stream: true }, { signal: controller.signal })
    let pieces = 0
    try {
      for await (const c of stream) {
        if ((c.choices[0]?.delta.content ?? '') !== '' && ++pieces === 3) controller.abort()
      }
    } catch {
      // the client's own abort may surface as an error here, or end the loop
    }
    expect(pieces).toBe(3)
    const info = await ended
    expect(info.disconnected).toBe(true)
    expect(info.result?.receipt.stopped).toBe(true)
    expect(info.result?.receipt.tokens).toBeLessThan(50)
    const jobs = embedded.generation?.stats.verified
    await new Promise(resolve => setTimeout(resolve, 500))
    expect(embedded.generation?.stats.verified).toBe(jobs)
  })

  it('answers errors in OpenAI\'s shape: 400 with param, 404 model and route, 413 prompt over the context', async () => {
    expect(await status(openai.completions.create({ model: 'stories260K', prompt: PROMPT, temperature: 5 }))).toMatchObject({ status: 400, param: 'temperature', type: 'invalid_request_error' })
    expect(await status(openai.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: PROMPT }], n: 2 }))).toMatchObject({ status: 400, param: 'n' })
    expect(await status(openai.chat.completions.create({ model: 'stories260K', messages: [] }))).toMatchObject({ status: 400, param: 'messages' })
    expect(await status(openai.completions.create({ model: 'stories260K', prompt: PROMPT, stop: ['a', 'b', 'c', 'd', 'e'] }))).toMatchObject({ status: 400, param: 'stop' })
    expect(await status(openai.completions.create({ model: 'gpt-4o', prompt: PROMPT }))).toMatchObject({ status: 404, param: 'model', code: 'model_not_found' })
    const route = await fetch(`${embedded.gateway.baseUrl}/embeddings`, { method: 'POST', body: '{}' })
    expect(route.status).toBe(404)
    expect(await route.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'unknown_url', param: null } })
    const bad = await fetch(`${embedded.gateway.baseUrl}/completions`, { method: 'POST', body: '{"model": ' })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_json' } })
    expect(await status(openai.completions.create({ model: 'stories260K', prompt: `${PROMPT} `.repeat(200) }))).toMatchObject({ status: 413, param: 'prompt', code: 'context_length_exceeded' })
    const huge = await fetch(`${embedded.gateway.baseUrl}/completions`, { method: 'POST', body: JSON.stringify({ model: 'stories260K', prompt: 'x'.repeat(2 << 20) }) })
    expect(huge.status).toBe(413)
    expect(await huge.json()).toMatchObject({ error: { code: 'request_too_large' } })
    // on loopback, a Host that is not a loopback name is refused (DNS rebinding)
    const rebound = await new Promise<{ status?: number, body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: embedded.gateway.port, path: '/v1/models', headers: { Host: 'attacker.example:8080' } }, res => {
        let body = ''
        res.on('data', (d: Buffer) => { body += d.toString() })
        res.on('end', () => { resolve({ status: res.statusCode, body }) })
      })
      req.on('error', reject)
      req.end()
    })
    expect(rebound.status).toBe(403)
    expect(JSON.parse(rebound.body)).toMatchObject({ error: { code: 'forbidden_host' } })
  })

  it('429 when its queue is full (one answering, one waiting); the waiting one is served after', async () => {
    const first = new AbortController()
    const firstEnded = nextAnswer()
    const running = await openai.completions.create({ model: 'stories260K', prompt: PROMPT, max_tokens: 400, temperature: 0, stream: true }, { signal: first.signal })
    const iterator = running[Symbol.asyncIterator]()
    await iterator.next() // it has the pipeline
    const waiting = openai.completions.create({ model: 'stories260K', prompt: PROMPT, max_tokens: 2, temperature: 0 })
    await new Promise(resolve => setTimeout(resolve, 200)) // it is queued
    expect(await status(openai.completions.create({ model: 'stories260K', prompt: PROMPT, max_tokens: 2 }))).toMatchObject({ status: 429, code: 'queue_full' })
    first.abort()
    await firstEnded
    expect((await waiting).choices[0].text).toBe(await w8a8Continuation(PROMPT, 2))
  })
})

describe('cerberus serve, other modes', () => {
  beforeAll(async () => {
    relay = await startRelay({ port: 0, healthPort: 0 })
    relayServing = await startServe({ ...BASE, mode: 'relay', relay: relay.multiaddrs[0], network: 'lan' }, quiet)
    others.push(relayServing)
  })

  it('--local with a token: 401 without it; with it, the same greedy text, labelled local', async () => {
    const s = await startServe({ ...BASE, mode: 'local', token: 's3cret' }, quiet)
    others.push(s)
    expect(await status(clientFor(s, 'wrong').models.list())).toMatchObject({ status: 401, code: 'invalid_api_key' })
    const whole = await clientFor(s, 's3cret').chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: PROMPT }], max_tokens: NEW_TOKENS, temperature: 0 })
    expect(whole.choices[0].message.content).toBe(expected)
    expect((whole as unknown as { cerberus: unknown }).cerberus).toMatchObject({ mode: 'local', local: true, bytesUp: 0, verified: 0, miners: [], note: 'Nothing leaves this device; no encryption needed' })
  })

  it('--relay to a relay with no miners: 503; with --fallback-local, a local answer', async () => {
    if (relay === undefined || relayServing === undefined) throw new Error('beforeAll starts them')
    expect(await status(clientFor(relayServing).completions.create({ model: 'stories260K', prompt: PROMPT, max_tokens: 2 }))).toMatchObject({ status: 503, code: 'no_miners', type: 'server_error' })
    const f = await startServe({ ...BASE, mode: 'relay', relay: relay.multiaddrs[0], network: 'lan', fallbackLocal: true }, quiet)
    others.push(f)
    const whole = await clientFor(f).completions.create({ model: 'stories260K', prompt: PROMPT, max_tokens: 4, temperature: 0 })
    expect((whole as unknown as { cerberus: unknown }).cerberus).toMatchObject({ mode: 'local', local: true })
  })

  it('--relay with a miner on the mesh: a private answer computed by it, the w8a8 text (and generate --relay prints it too)', async () => {
    if (relay === undefined || relayServing === undefined) throw new Error('beforeAll starts them')
    const model = await loadModelFiles()
    const privateKey = await generateKeyPair('Ed25519')
    const peer = await createPeer({ listenPort: 0, privateKey })
    const pool = createMinerPool({ spawn: inThreadPort, size: 1 })
    const miner = await startMinerNode({
      model: { name: model.name, sha256: model.sha256, squeezed: squeezeModel(model.ckpt) },
      privateKey,
      relays: [multiaddr(relay.multiaddrs[0])],
      capacity: 1,
      addrs: () => peer.getMultiaddrs().map(String),
      announceIntervalMs: 300
    }, { peer, compute: pool })
    try {
      const s = relayServing // it answered 503 before the miner came
      const t0 = Date.now()
      while ((s.links?.ready ?? 0) === 0 && Date.now() - t0 < 20_000) await new Promise(resolve => setTimeout(resolve, 100))
      const whole = await clientFor(s).completions.create({ model: 'stories260K', prompt: PROMPT, max_tokens: 4, temperature: 0 })
      const four = await w8a8Continuation(PROMPT, 4)
      expect(whole.choices[0].text).toBe(four)
      expect((whole as unknown as { cerberus: unknown }).cerberus).toMatchObject({ mode: 'private', rejected: 0, miners: [{ peerId: miner.peerId }] })
      const out: Buffer[] = []
      const code = await main(['generate', '--engine', 'mesh', '--relay', relay.multiaddrs[0], '--temperature', '0', '--steps', '8', '--prompt', PROMPT], { stdout: b => { out.push(Buffer.from(b)) }, stderr: () => {} })
      expect(code).toBe(0)
      expect(Buffer.concat(out).toString()).toBe(`${PROMPT}${four}\n`)
    } finally {
      await miner.stop()
      await peer.stop()
      pool.close()
    }
  })
})

describe('cerberus serve --plan-cache DIR', () => {
  it('the first start keeps its plan searches there; the next plans from them (nothing written) and answers the same text; --local refuses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cerberus-plans-'))
    try {
      const answer = async (): Promise<{ text: string, files: Array<[string, number]> }> => {
        const s = await startServe({ ...BASE, planCache: dir }, quiet)
        try {
          const r = await clientFor(s).completions.create({ model: s.modelId, prompt: PROMPT, max_tokens: NEW_TOKENS, temperature: 0 })
          return { text: r.choices[0].text, files: readdirSync(dir).map(n => [n, statSync(join(dir, n)).mtimeMs]) }
        } finally {
          await s.close()
        }
      }
      const first = await answer()
      expect(first.text).toBe(expected)
      expect(first.files.map(([n]) => n)).toEqual([expect.stringMatching(/^[0-9a-f]{64}\.plan\.json$/)])
      const second = await answer()
      expect(second.text).toBe(expected)
      expect(second.files).toEqual(first.files)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    expect(parseServeArgs(['--plan-cache', '/x'], {}).planCache).toBe('/x')
    expect(parseServeArgs([], { CERBERUS_PLAN_CACHE: '/y' }).planCache).toBe('/y')
    expect(parseServeArgs([], {}).planCache).toBeUndefined()
    expect(() => parseServeArgs(['--local', '--plan-cache', '/x'], {})).toThrow('--plan-cache goes with --embedded or --relay')
  })
})
