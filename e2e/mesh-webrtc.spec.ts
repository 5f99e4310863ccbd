/**
 * The browser mesh, all real: a relay process, two donor tabs (browser miners, "donate"
 * on) and a user tab, each its own browser context, connected browser↔browser over WebRTC
 * (the relay carries only the handshake). Private greedy generation of stories260K prints
 * exactly the w8a8 text; then the relay is stopped and the user generates again over the
 * existing WebRTC connections — same text. Every byte the user's tab sends on a WebRTC
 * data channel (plaintext to JavaScript: DTLS encrypts below it) is captured and audited:
 * no prompt text, no token id, no plaintext activation.
 */
import { expect, test, type Browser, type Page } from '@playwright/test'
import type { AnswerReceipt } from '../src/app/types.ts'
import type { ClientRunResult } from '../src/bench/mesh-page.ts'
import { NETWORKS } from '../src/core/he/index.ts'
import { squeezeModel } from '../src/core/squeeze/index.ts'
import { loadModelFiles } from '../src/node/model-files.ts'
import { killCliProcesses, startCli, w8a8Text } from './support/cli.ts'

/** Record every byte this page sends on WebRTC data channels, before DTLS. */
function captureDataChannels (): void {
  const sent: Uint8Array[] = []
  ;(window as unknown as { rtcSent: Uint8Array[] }).rtcSent = sent
  const orig = RTCDataChannel.prototype.send
  RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: string | Blob | ArrayBuffer | ArrayBufferView): void {
    if (typeof data === 'string') sent.push(new TextEncoder().encode(data))
    else if (data instanceof ArrayBuffer) sent.push(new Uint8Array(data.slice(0)))
    else if (ArrayBuffer.isView(data)) sent.push(new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)))
    orig.apply(this, [data] as never)
  }
}

async function openDonor (browser: Browser, relay: string): Promise<Page> {
  const ctx = await browser.newContext()
  const page = await ctx.newPage()
  await page.goto(`/bench.html?bench=donor&workers=1&relay=${encodeURIComponent(relay)}`)
  await page.waitForFunction(() => window.cerberusDonor?.status === 'on' || window.cerberusDonor?.status === 'error', undefined, { timeout: 60_000 })
  expect(await page.evaluate(() => window.cerberusDonor?.error)).toBeUndefined()
  return page
}

test.afterAll(() => { killCliProcesses() })

test('relay + two donor tabs + a user tab over WebRTC: exactly the w8a8 text, also after the relay stops; the wire carries no plaintext', async ({ browser }) => {
  test.setTimeout(240_000)
  const steps = 16
  const prompt = 'Once upon a time, Lily'
  const relayProc = await startCli(['relay', '--port', '0'], /relay ready: (\S+)/)
  const relay = relayProc.match[1]
  const donors = [await openDonor(browser, relay), await openDonor(browser, relay)]

  const ctx = await browser.newContext()
  await ctx.addInitScript(captureDataChannels)
  const user = await ctx.newPage()
  // split=2: every coefficient-encoded matrix (stories260K's have 2–4 output blocks) is split
  // across both donors
  await user.goto(`/bench.html?bench=client&miners=2&split=2&steps=${steps}&prompt=${encodeURIComponent(prompt)}&relay=${encodeURIComponent(relay)}`)
  const r = await (await user.waitForFunction(() => window.cerberusClient, undefined, { timeout: 180_000 })).jsonValue() as ClientRunResult
  expect(r.error).toBeUndefined()
  const expected = w8a8Text(steps + 6, prompt) // the prompt's 6 tokens after BOS are echoed by the CLI
  expect(prompt + (r.texts?.[0] ?? '')).toBe(expected)
  const receipt = r.receipts?.[0] as AnswerReceipt
  expect(receipt.rejected).toBe(0)
  expect(receipt.verified).toBeGreaterThan(0)
  // the donors computed, over direct WebRTC connections
  expect(receipt.miners.length).toBe(2)
  const donorIds = await Promise.all(donors.map(async d => await d.evaluate(() => window.cerberusDonor?.peerId)))
  expect(receipt.miners.map(m => m.peerId).sort()).toEqual([...donorIds].sort())
  // every coefficient-encoded job was split in two (both donors answered one part of each);
  // a packed job (one packed result) goes whole to one donor. The prompt's 7 positions go
  // as one batch (padded with zero vectors to 16; its 7 real results verified) per matrix
  // whose prefillFrom ≤ 7 (the user's plan: lan). With S split jobs among the jobs, the
  // parts number jobs + S, and each donor answered all S.
  const sq = squeezeModel((await loadModelFiles()).ckpt, { network: NETWORKS.lan })
  const batches = [...sq.groups.values()].filter(g => g.placement === 'encrypted').flatMap(g => g.matrices.map((_m, i) => (g.prefillFrom?.[i] ?? Infinity) <= 7)).filter(Boolean).length
  const jobs = receipt.verified - 6 * batches
  const [a, b] = receipt.miners.map(m => m.jobs)
  const splitJobs = a + b - jobs
  expect(splitJobs).toBeGreaterThan(jobs / 2)
  expect(Math.min(a, b)).toBeGreaterThanOrEqual(splitJobs)
  const kinds = await user.evaluate(() => window.cerberusApp?.getState().peers.filter(p => p.role === 'miner').map(p => p.connection))
  expect(kinds).toEqual(['webrtc', 'webrtc'])

  // The wire audit: the frames sent to miners, and everything sent on data channels.
  expect(r.audit?.frames.bytes).toBeGreaterThan(1_000_000)
  expect(r.audit?.frames.findings).toEqual([])
  expect(r.audit?.dataChannels?.bytes).toBeGreaterThan(1_000_000)
  expect(r.audit?.dataChannels?.findings).toEqual([])
  expect(r.audit?.dataChannels?.needles).toBeGreaterThan(100)

  // Stop the relay: the WebRTC connections stay, and so does the answer.
  relayProc.proc.kill('SIGTERM')
  await new Promise(resolve => relayProc.proc.once('exit', resolve))
  const again = await user.evaluate(async () => await (window.cerberusClientAgain as () => Promise<{ text: string, receipt: AnswerReceipt }>)())
  expect(prompt + again.text).toBe(expected)
  expect(again.receipt.rejected).toBe(0)
})
