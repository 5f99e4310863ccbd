import { describe, expect, it } from 'vitest'
import { createGpuMac } from '../gpu/mac-runner.node.ts'
import type { GpuMac } from '../gpu/mac-runner.ts'
import { formatGpuBench, runGpuBench } from './gpu-bench.ts'

describe('bench gpu', () => {
  it('reports per shape the kernel and each backend, exact, with the JSON names the issue asks for', async () => {
    const report = await runGpuBench({ runtime: 'node', adapter: 'test', softwareAdapter: true, shapes: [[64, 64], [128, 96]], reps: 1, backends: [{ backend: 'cpu', create: s => createGpuMac(s) }] })
    expect(report.adapter).toBe('test')
    expect(report.shapes.map(s => [s.dOut, s.dIn, s.exact, s.webgpuMs])).toEqual([[64, 64, true, null], [128, 96, true, null]])
    for (const s of report.shapes) {
      expect(s.wasmMs).toBeGreaterThan(0)
      expect(s.macs).toBe(s.blocks * s.chunks * 2 * 2048)
      expect(s.runs[0]).toMatchObject({ backend: 'cpu', exact: true })
    }
    const text = formatGpuBench(report)
    expect(text).toContain('prove correctness only')
    expect(text).toContain('| 64×64 | 2048 |')
    expect(JSON.parse(JSON.stringify(report))).toEqual(report)
  })

  it('marks a shape not exact when a backend returns one wrong word', async () => {
    const wrong = (s: Parameters<typeof createGpuMac>[0]): GpuMac => {
      const real = createGpuMac(s)
      return { ...real, upload: w => real.upload(w), dispose: () => real.dispose(), mac: async x => { const y = await real.mac(x); y[0] ^= 1; return y } }
    }
    const report = await runGpuBench({ runtime: 'node', adapter: 'test', softwareAdapter: false, shapes: [[64, 64]], reps: 0, backends: [{ backend: 'webgpu', create: wrong }] })
    expect(report.shapes[0]).toMatchObject({ exact: false })
    expect(report.shapes[0].webgpuMs).toBeGreaterThan(0)
    expect(formatGpuBench(report)).toContain('| NO |')
  })
})
