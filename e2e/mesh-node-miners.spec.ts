/**
 * A user tab and headless Node miners (real `cerberus miner --relay` processes) found
 * through the relay's announcements and reached over libp2p WebSockets, on loopback:
 * private generation prints exactly the w8a8 text; when one miner is killed
 * mid-generation, the generation completes with the same text; and a lying miner among
 * honest ones is caught — the text is right, the liar is dropped, and no wrong token was
 * ever shown.
 */
import type { ChildProcess } from 'node:child_process'
import { expect, test, type Page } from '@playwright/test'
import type { ClientRunResult } from '../src/bench/mesh-page.ts'
import { killCliProcesses, startCli, w8a8Text } from './support/cli.ts'

let lastHealthUrl = ''
async function relay (): Promise<string> {
  const { match } = await startCli(['relay', '--port', '0'], /relay ready: (\S+)\nhealth: (\S+)/)
  lastHealthUrl = match[2]
  return match[1]
}

async function miner (relayAddr: string, ...extra: string[]): Promise<{ proc: ChildProcess, peerId: string }> {
  const { proc, match } = await startCli(['miner', '--port', '0', '--workers', '1', '--relay', relayAddr, '--announce-interval', '1000', ...extra], /miner ready: \S+\/p2p\/(\S+)/)
  return { proc, peerId: match[1] }
}

async function result (page: Page, timeout: number): Promise<ClientRunResult> {
  return await (await page.waitForFunction(() => window.cerberusClient, undefined, { timeout })).jsonValue() as ClientRunResult
}

test.afterEach(() => { killCliProcesses('SIGKILL') })

test('user tab + two Node miners found through the relay, over WebSockets: exactly the w8a8 text, every result verified', async ({ page }) => {
  test.setTimeout(120_000)
  const r0 = await relay()
  const [a, b] = [await miner(r0), await miner(r0)]
  await page.goto(`/bench.html?bench=client&miners=2&steps=20&relay=${encodeURIComponent(r0)}`)
  const r = await result(page, 110_000)
  expect(r.error).toBeUndefined()
  expect(r.texts?.[0]).toBe(w8a8Text(20))
  expect(r.receipts?.[0].verified).toBe(20 * 20)
  expect(r.receipts?.[0].rejected).toBe(0)
  const peers = await page.evaluate(() => window.cerberusApp?.getState().peers.filter(p => p.role === 'miner').map(p => ({ id: p.peerId, connection: p.connection })))
  expect(peers?.map(p => p.id).sort()).toEqual([a.peerId, b.peerId].sort())
  expect(peers?.map(p => p.connection)).toEqual(['websocket', 'websocket'])
  // the relay's table: two miners and this user (who announces only that it is a user)
  const health = await (await fetch(lastHealthUrl)).json() as { announcements: { peers: number, miners: number } }
  expect(health.announcements).toMatchObject({ peers: 3, miners: 2 })
  const users = await page.evaluate(() => window.cerberusApp?.getState().peers.filter(p => p.role === 'user').length)
  expect(users).toBe(0) // the user's own record is not listed back to itself
})

test('one miner killed mid-generation: the generation completes with the same text', async ({ page }) => {
  test.setTimeout(150_000)
  const r0 = await relay()
  const [a] = [await miner(r0), await miner(r0)]
  await page.goto(`/bench.html?bench=client&miners=2&steps=40&relay=${encodeURIComponent(r0)}`)
  // wait until some tokens are out, then kill one miner as the OS would
  await expect(page.locator('#report')).toContainText('Once upon a time', { timeout: 60_000 })
  a.proc.kill('SIGKILL')
  const r = await result(page, 140_000)
  expect(r.error).toBeUndefined()
  expect(r.texts?.[0]).toBe(w8a8Text(40))
})

test('a lying miner (--tamper=flip) among honest ones: the text is right, the liar is dropped, no wrong token was shown', async ({ page }) => {
  test.setTimeout(150_000)
  const r0 = await relay()
  const liar = await miner(r0, '--tamper=flip')
  await miner(r0)
  await miner(r0)
  await page.goto(`/bench.html?bench=client&miners=3&steps=24&relay=${encodeURIComponent(r0)}`)
  const r = await result(page, 140_000)
  expect(r.error).toBeUndefined()
  const expected = w8a8Text(24)
  expect(r.texts?.[0]).toBe(expected)
  expect(r.receipts?.[0].rejected).toBeGreaterThanOrEqual(1)
  const seen = await page.evaluate(() => window.cerberusSeen ?? [])
  expect(seen.length).toBeGreaterThan(10)
  for (const s of seen) expect(expected.startsWith(s), `shown: ${JSON.stringify(s)}`).toBe(true)
  const views = await page.evaluate(() => window.cerberusApp?.getState().peers.filter(p => p.role === 'miner').map(p => ({ id: p.peerId, dropped: p.dropped })))
  expect(views?.find(v => v.id === liar.peerId)?.dropped).toBe('rejected')
  expect(views?.filter(v => v.id !== liar.peerId).map(v => v.dropped)).toEqual([undefined, undefined])
})
