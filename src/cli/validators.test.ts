/**
 * Validators as real `cerberus` processes on loopback: a relay, two honest miners, one
 * lying miner (--tamper=flip), two honest validators and one lying validator (--lie). The
 * cheat's median standing becomes "failed" and the honest miners "trusted" within 60 s
 * (`cerberus scores --json`); a user who joins then (`cerberus generate --engine mesh
 * --relay --receipt`) gets exactly the w8a8 text, sends the cheat no job, and weighs the
 * lying validator less.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startRelay, type Relay } from '../../signaling-server/relay.ts'
import { PROJECT_ROOT } from '../node/model-files.ts'
import { main } from './main.ts'
import type { ScoresRow } from './scores.ts'

const procs: ChildProcess[] = []
let relay: Relay | undefined
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL')
  await relay?.stop()
})

/** Start `cerberus ARGS…`; resolves with the first match of `ready` on stdout. */
const byId = new Map<string, ChildProcess>()
async function start (args: string[], ready: RegExp): Promise<string> {
  const proc = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'cerberus.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  procs.push(proc)
  let err = ''
  proc.stderr.on('data', (d: Buffer) => { err += d.toString() })
  return await new Promise<string>((resolve, reject) => {
    let out = ''
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const m = ready.exec(out)
      if (m !== null) { byId.set(m[1], proc); resolve(m[1]) }
    })
    proc.on('exit', code => { reject(new Error(`cerberus ${args[0]} exited with ${code}: ${out} ${err}`)) })
  })
}

async function cli (...argv: string[]): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await main(argv, { stdout: b => { out += typeof b === 'string' ? b : Buffer.from(b).toString() }, stderr: t => { err += t } })
  return { code, out, err }
}

describe('validators as processes', () => {
  it('two honest validators and a liar: the cheat fails and the honest miners are trusted within 60 s; a user then gets the exact text, sends the cheat nothing and weighs the liar less', async () => {
    // every process here connects from 127.0.0.1, and validators make a new peer each epoch
    relay = await startRelay({ port: 0, healthPort: 0, inboundConnectionThreshold: 100 })
    const r = relay.multiaddrs[0]
    const minerArgs = ['miner', '--port', '0', '--workers', '1', '--relay', r, '--announce-interval', '1000']
    const minerId = /miner ready: \S+\/p2p\/(\S+)/
    const [honestA, honestB, cheat] = await Promise.all([start(minerArgs, minerId), start(minerArgs, minerId), start([...minerArgs, '--tamper=flip'], minerId)])
    // short visits (1–2 answers of 1–2 tokens, ~0.5 s to "think"), so that this test sees several epochs
    const validatorArgs = ['validator', '--relay', r, '--interval', '500', '--tokens', '1-2', '--answers', '1-2', '--publish-interval', '2000']
    const validatorId = /validator ready: (\S+)/
    const [v1, v2, liar] = await Promise.all([start(validatorArgs, validatorId), start(validatorArgs, validatorId), start([...validatorArgs, '--lie'], validatorId)])
    const t0 = Date.now()

    let rows: ScoresRow[] = []
    const status = (id: string): string | undefined => rows.find(x => x.peerId === id)?.status
    while (Date.now() - t0 < 60_000) {
      const s = await cli('scores', '--relay', r, '--json')
      expect(s.code).toBe(0)
      rows = JSON.parse(s.out) as ScoresRow[]
      if (status(cheat) === 'failed' && status(honestA) === 'trusted' && status(honestB) === 'trusted') break
      await new Promise(resolve => setTimeout(resolve, 1000))
    }
    const tookMs = Date.now() - t0
    console.log(`cheat marked failed ${(tookMs / 1000).toFixed(1)} s after the validators started: ${JSON.stringify(rows.map(x => ({ id: x.peerId.slice(-6), status: x.status, validators: x.validators, against: x.against })))}`)
    expect(status(cheat)).toBe('failed')
    expect(status(honestA)).toBe('trusted')
    expect(status(honestB)).toBe('trusted')
    expect(tookMs).toBeLessThan(60_000)
    const cheatRow = rows.find(x => x.peerId === cheat)
    expect(cheatRow?.against).toBeGreaterThanOrEqual(2)
    expect(cheatRow?.validators).toBeLessThanOrEqual(1) // only the liar vouches
    for (const x of rows) expect(Object.keys(x)).toEqual(expect.arrayContaining(['peerId', 'status', 'validators', 'passed', 'failed', 'p50Ms']))

    // a user joins and generates. The validators pause meanwhile (SIGSTOP), only to leave her
    // the two cores; their latest records stay valid in the books for 30 s.
    for (const v of [v1, v2, liar]) byId.get(v)?.kill('SIGSTOP')
    const receiptFile = join(mkdtempSync(join(tmpdir(), 'cerberus-receipt-')), 'receipt.json')
    const g = await cli('generate', '--engine', 'mesh', '--relay', r, '--temperature', '0', '--steps', '8', '--receipt', receiptFile)
    for (const v of [v1, v2, liar]) byId.get(v)?.kill('SIGCONT')
    expect(g.code, g.err).toBe(0)
    const w = await cli('generate', '--engine', 'w8a8', '--temperature', '0', '--steps', '8')
    expect(g.out).toBe(w.out)
    const receipt = JSON.parse(readFileSync(receiptFile, 'utf8')) as { rejected: number, verified: number, miners: Array<{ peerId: string, jobs: number }>, validators: Array<{ peerId: string, weight: number }> }
    expect(receipt.rejected).toBe(0)
    expect(receipt.miners.find(m => m.peerId === cheat)).toBeUndefined() // zero jobs
    expect(receipt.miners.reduce((a, m) => a + m.jobs, 0)).toBe(receipt.verified)
    for (const m of receipt.miners) expect([honestA, honestB]).toContain(m.peerId)
    console.log(`the user's weights: ${JSON.stringify(receipt.validators.map(x => ({ id: x.peerId.slice(-6), liar: x.peerId === liar, weight: x.weight })))}`)
    const weight = (id: string): number | undefined => receipt.validators.find(x => x.peerId === id)?.weight
    expect(weight(v1)).toBe(1)
    expect(weight(v2)).toBe(1)
    expect(weight(liar)).toBeLessThan(1)
  }, 150_000)

  it('refuses bad usage with a hint: no relay, a bad range, a bad tamper mode', async () => {
    const usage = async (...argv: string[]): Promise<string> => {
      const r = await cli(...argv)
      expect(r.code).toBe(2)
      return r.err
    }
    expect(await usage('validator')).toMatch(/validator needs --relay/)
    expect(await usage('validator', '--relay', '/ip4/127.0.0.1/tcp/9090/ws')).toMatch(/--relay must end in \/p2p\//)
    expect(await usage('validator', '--relay', '/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWF5cP9kGe4zyxXovWTNgotoYyw7pvVhjRA8FpynYd8Ftq', '--tokens', '8-2')).toMatch(/--tokens: 8 is above 2/)
    expect(await usage('scores')).toMatch(/scores needs --relay/)
    expect(await usage('miner', '--tamper=flip-after=x')).toMatch(/--tamper must be one of flip, zero, stale, flip-after=N/)
    const help = await cli('help')
    expect(help.out).toMatch(/^ {2}validator {5}/m)
    expect(help.out).toMatch(/^ {2}scores {8}/m)
  })
})
