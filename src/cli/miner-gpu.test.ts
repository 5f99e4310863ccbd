/**
 * `cerberus miner --gpu` as a process: it probes onnxruntime-node's WebGPU EP, runs the
 * self-test where Dawn finds an adapter, and otherwise says why and computes on the CPU —
 * on this development box (no GPU, no libvulkan.so.1) the message and the CPU. Either way
 * it serves a user whose text equals --engine w8a8.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { probeNodeWebGpu } from '../gpu/mac-runner.node.ts'
import { PROJECT_ROOT } from '../node/model-files.ts'
import { main } from './main.ts'

async function cli (...argv: string[]): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await main(argv, { stdout: t => { out += typeof t === 'string' ? t : Buffer.from(t).toString() }, stderr: t => { err += t } })
  return { code, out, err }
}

describe('cerberus miner --gpu', () => {
  it('says what it computes on (here: why not the GPU), then serves the w8a8 text', async () => {
    const probe = await probeNodeWebGpu()
    const miner = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'cerberus.js'), 'miner', '--port', '0', '--workers', '1', '--gpu'], { stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      let out = ''
      const addr = await new Promise<string>((resolve, reject) => {
        miner.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          const m = /miner ready: (\S+)/.exec(out)
          if (m !== null) resolve(m[1])
        })
        miner.on('exit', code => { reject(new Error(`miner exited with ${code}: ${out}`)) })
      })
      const device = out.split('\n')[0]
      if (probe.ok) expect(device).toMatch(/^computing on the GPU \(webgpu: dawn-vulkan.*\), self-test passed on 1 of 1 workers$/)
      else {
        expect(device).toBe(`computing on the CPU: ${probe.reason}`)
        expect(device).toMatch(/^computing on the CPU: WebGPU not available in onnxruntime-node: .*\(Dawn needs libvulkan\.so\.1 and a Vulkan driver\)$/)
      }
      const args = ['--temperature', '0', '--steps', '8']
      const mesh = await cli('generate', '--engine', 'mesh', '--miner', addr, ...args)
      expect(mesh.code).toBe(0)
      expect(mesh.out).toBe((await cli('generate', '--engine', 'w8a8', ...args)).out)
      expect(mesh.err).toMatch(/\d+ linear results verified, 0 rejected/)
    } finally {
      miner.kill('SIGTERM')
    }
  }, 120_000)
})
