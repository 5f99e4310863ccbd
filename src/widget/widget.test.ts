import { describe, expect, it } from 'vitest'
import type { AnswerReceipt, ClientState } from '../app/types.ts'
import { errorText, statusLine } from './messages.ts'
import { POLICY_BLOCKS } from './page-policy.ts'
import { readConnection, readSampling, WidgetAttributeError, WIDGET_DEFAULTS } from './options.ts'
import { formatKiB, receiptLine } from './receipt.ts'
import { bootstrapSource, moduleWorkerScript } from './worker-bootstrap.ts'

const SCRIPT = 'http://127.0.0.1:5180/widget/cerberus-chat.js'
const PAGE = 'http://localhost:8000/blog/post.html'
const RELAY = '/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWAbc'
const attrs = (a: Record<string, string>) => (name: string): string | null => a[name] ?? null

describe('readConnection', () => {
  it('needs a relay, and says how to get one', () => {
    expect(() => readConnection(attrs({}), SCRIPT, PAGE)).toThrow(WidgetAttributeError)
    expect(() => readConnection(attrs({ relay: '  ' }), SCRIPT, PAGE)).toThrow(/^The relay attribute is missing.*cerberus relay" print it\)\.$/)
    expect(() => readConnection(attrs({ relay: 'ws://127.0.0.1:9090' }), SCRIPT, PAGE)).toThrow(/not a relay multiaddr/)
  })

  it('defaults the model to /models/default/ on the widget\'s origin, not the page\'s', () => {
    expect(readConnection(attrs({ relay: RELAY }), SCRIPT, PAGE)).toEqual({ relay: RELAY, model: { kind: 'default', base: 'http://127.0.0.1:5180/models/default/' } })
  })

  it('resolves model URLs against the page, and fills a missing one from the default', () => {
    expect(readConnection(attrs({ relay: RELAY, model: '../m/s.bin', tokenizer: 'https://cdn.example/t.bin' }), SCRIPT, PAGE).model)
      .toEqual({ kind: 'url', model: 'http://localhost:8000/m/s.bin', tokenizer: 'https://cdn.example/t.bin' })
    expect(readConnection(attrs({ relay: RELAY, model: '/s.bin' }), SCRIPT, PAGE).model)
      .toEqual({ kind: 'url', model: 'http://localhost:8000/s.bin', tokenizer: 'http://127.0.0.1:5180/models/default/tok512.bin' })
  })
})

describe('readSampling', () => {
  it('has documented defaults', () => {
    expect(readSampling(attrs({}))).toEqual({ temperature: WIDGET_DEFAULTS.temperature, maxTokens: WIDGET_DEFAULTS.maxTokens })
  })

  it('reads numbers and refuses what is out of range', () => {
    expect(readSampling(attrs({ temperature: '0.7', 'max-tokens': '40' }))).toEqual({ temperature: 0.7, maxTokens: 40 })
    for (const t of ['-1', 'hot', '2.5', 'NaN']) expect(() => readSampling(attrs({ temperature: t }))).toThrow(/^The temperature attribute "[^"]+" must be a number/)
    for (const m of ['0', '1.5', 'many', '5000']) expect(() => readSampling(attrs({ 'max-tokens': m }))).toThrow(/^The max-tokens attribute "[^"]+" must be a whole number/)
  })
})

describe('receiptLine', () => {
  const r: AnswerReceipt = { tokens: 20, ms: 900, bytesUp: 417_792, bytesDown: 700_000, verified: 400, rejected: 0, miners: [{ peerId: 'a', jobs: 300 }, { peerId: 'b', jobs: 100 }] }
  it('says what was sent and who verified it', () => {
    expect(receiptLine(r)).toBe('408 KiB sent, all encrypted; 400 results verified by 2 miners')
    expect(receiptLine({ ...r, bytesUp: 400, verified: 1, miners: [{ peerId: 'a', jobs: 1 }] })).toBe('0.4 KiB sent, all encrypted; 1 result verified by 1 miner')
    expect(receiptLine({ ...r, rejected: 3 })).toBe('408 KiB sent, all encrypted; 400 results verified by 2 miners; 3 wrong results caught and recomputed')
  })
  it('formats KiB', () => {
    expect(formatKiB(0)).toBe('0.0 KiB')
    expect(formatKiB(2_000_000)).toBe('1,953 KiB')
  })
})

describe('messages', () => {
  const base: ClientState = { status: 'ready', relay: { address: RELAY, connected: true }, peers: [], minersReady: 2 }
  it('status lines', () => {
    expect(statusLine(base)).toBe('Ready: 2 miners online. Your keys stay in this browser.')
    expect(statusLine({ ...base, minersReady: 1 })).toMatch(/^Ready: 1 miner online/)
    expect(statusLine({ ...base, minersReady: 0 })).toMatch(/No miners online/)
    expect(statusLine({ ...base, status: 'starting', progress: { phase: 'connecting', label: 'Connecting to the relay', done: 0, total: 1 } })).toBe('Connecting to the relay')
  })
  it('points at the element\'s attributes, not the app\'s settings', () => {
    expect(errorText({ code: 'RELAY_UNREACHABLE', message: 'cannot reach the relay at X; check the address in Settings' }, RELAY)).toBe(`Cannot reach the relay at ${RELAY}. Check the relay attribute of <cerberus-chat> and that the relay is running.`)
    expect(errorText({ code: 'MODEL_FORMAT', message: 'not a llama2.c checkpoint' }, RELAY)).toBe('Not a llama2.c checkpoint.')
  })
  it('a worker the page\'s Content-Security-Policy refused names the directive to add; another crash points at CORS', () => {
    const w = 'https://cerberus.example.org'
    for (const block of [POLICY_BLOCKS.worker(w), POLICY_BLOCKS.wasm(w), POLICY_BLOCKS.unloaded(w)]) expect(errorText({ code: 'WORKER_CRASHED', message: `the HE user worker stopped: ${block}` }, RELAY)).toBe(block)
    expect(POLICY_BLOCKS.worker(w)).toMatch(/must allow worker-src blob: https:\/\/cerberus\.example\.org\.$/)
    expect(POLICY_BLOCKS.wasm(w)).toMatch(/must allow script-src https:\/\/cerberus\.example\.org 'wasm-unsafe-eval'\.$/)
    expect(POLICY_BLOCKS.unloaded(w)).toMatch(/\(CORS\).*worker-src blob: https:\/\/cerberus\.example\.org\.$/)
    expect(errorText({ code: 'WORKER_CRASHED', message: 'the HE user worker stopped: it could not be loaded' }, RELAY)).toMatch(/could not run: .*\(CORS\)\.$/)
  })
})

describe('worker bootstrap', () => {
  it('imports the absolute script URL, and refuses a relative one', () => {
    expect(bootstrapSource('https://w.example/widget/assets/he.worker-x.js')).toBe('import "https://w.example/widget/assets/he.worker-x.js";\n')
    expect(() => bootstrapSource('assets/he.worker-x.js')).toThrow()
  })
  it('uses the script itself when same-origin and a blob: URL otherwise', async () => {
    const same = moduleWorkerScript('http://127.0.0.1:5180/widget/assets/w.js', 'http://127.0.0.1:5180')
    expect(same.url).toBe('http://127.0.0.1:5180/widget/assets/w.js')
    const cross = moduleWorkerScript('http://127.0.0.1:5180/widget/assets/w.js', 'http://localhost:8000')
    expect(cross.url).toMatch(/^blob:/)
    const { resolveObjectURL } = await import('node:buffer')
    expect(await resolveObjectURL(cross.url)?.text()).toBe('import "http://127.0.0.1:5180/widget/assets/w.js";\n')
    cross.revoke()
    expect(resolveObjectURL(cross.url)).toBeUndefined()
  })
})
