/**
 * A user page and two headless Node miners (real `cerberus miner` processes) over libp2p
 * WebSockets, on loopback: private generation prints exactly the w8a8 text; and when one
 * miner is killed mid-generation, the generation completes with the same text.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { expect, test } from '@playwright/test'
import type { MeshRunResult } from '../src/bench/mesh-page.ts'

const CLI = ['bin/cerberus.js']
const miners: ChildProcess[] = []

async function startMiner (): Promise<{ proc: ChildProcess, addr: string }> {
  const proc = spawn(process.execPath, [...CLI, 'miner', '--port', '0', '--workers', '1'], { stdio: ['ignore', 'pipe', 'pipe'] })
  miners.push(proc)
  const addr = await new Promise<string>((resolve, reject) => {
    let out = ''
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /miner ready: (\S+)/.exec(out)
      if (m !== null) resolve(m[1])
    })
    proc.on('exit', code => { reject(new Error(`miner exited (${code}): ${out}`)) })
  })
  return { proc, addr }
}

function w8a8Text (steps: number): string {
  return execFileSync(process.execPath, [...CLI, 'generate', '--engine', 'w8a8', '--temperature', '0', '--steps', String(steps)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).replace(/\n$/, '')
}

test.afterAll(() => { for (const m of miners) m.kill('SIGTERM') })

test('user page + two Node miners over WebSockets: exactly the w8a8 text, every result verified', async ({ page }) => {
  test.setTimeout(120_000)
  const [a, b] = [await startMiner(), await startMiner()]
  await page.goto(`/bench.html?bench=mesh&steps=20&miners=${encodeURIComponent(`${a.addr},${b.addr}`)}`)
  const r = await (await page.waitForFunction(() => window.cerberusMesh, undefined, { timeout: 110_000 })).jsonValue() as MeshRunResult
  expect(r.error).toBeUndefined()
  expect(r.text).toBe(w8a8Text(20))
  expect(r.verified).toBe(20 * 20)
  expect(r.rejected).toBe(0)
})

test('one miner killed mid-generation: the generation completes with the same text', async ({ page }) => {
  test.setTimeout(150_000)
  const [a, b] = [await startMiner(), await startMiner()]
  await page.goto(`/bench.html?bench=mesh&steps=40&miners=${encodeURIComponent(`${a.addr},${b.addr}`)}`)
  // wait until some tokens are out, then kill one miner as the OS would
  await expect(page.locator('#report')).toContainText('Once upon a time', { timeout: 60_000 })
  a.proc.kill('SIGKILL')
  const r = await (await page.waitForFunction(() => window.cerberusMesh, undefined, { timeout: 140_000 })).jsonValue() as MeshRunResult
  expect(r.error).toBeUndefined()
  expect(r.text).toBe(w8a8Text(40))
  // the dead miner is dropped when a job reaches for it (a faster survivor may take them all)
  expect((r.dropped ?? []).filter(d => d !== a.addr)).toEqual([])
})
