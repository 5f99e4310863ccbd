/**
 * The short version of `bench privacy` (real SEAL, stories260K, a few generations): the
 * report has the fields, the control's lengths show in the request counts, and
 * padding makes every generation of the padded experiment send the same number of jobs.
 */
import { describe, expect, it } from 'vitest'
import { loadModelFiles } from '../node/model-files.ts'
import { loadSeal } from '../core/he/index.ts'
import { formatPrivacyReport, runPrivacyBench } from './privacy-bench.ts'

describe('bench privacy (short)', () => {
  it('runs the three experiments and reports AUCs with intervals; padding equalizes the job counts', async () => {
    const report = await runPrivacyBench({ seal: await loadSeal(), model: await loadModelFiles(), generations: 6, answerTokens: 2, padTo: 20 })
    for (const e of [report, report.content, report.control, report.padded]) {
      expect(e.aucLow).toBeLessThanOrEqual(e.auc)
      expect(e.auc).toBeLessThanOrEqual(e.aucHigh)
      expect(e.auc).toBeGreaterThanOrEqual(0)
      expect(e.auc).toBeLessThanOrEqual(1)
    }
    expect(report.auc).toBe(report.content.auc)
    expect(report.content.samples.length).toBe(12)
    expect(report.features.length).toBe(report.content.samples[0].features.length)
    // lengths are visible without padding: 11- and 18-token prompts send different request
    // counts (12 and 19 positions: batched prefill jobs of 16 and the rest, per matrix)
    expect(report.control.promptTokens).toEqual([[11, 11], [18, 18]])
    expect(report.control.requests[1]).toBeGreaterThan(report.control.requests[0])
    // padded to 20: the prompt pass sends 20 vectors per matrix and the answer 20 passes,
    // whatever the prompt — the same requests for both (at least the 19 answer passes' 20 each)
    expect(report.padded.requests[0]).toBe(report.padded.requests[1])
    expect(report.padded.requests[0]).toBeGreaterThanOrEqual(19 * 20 + 20)
    expect(formatPrivacyReport(report)).toContain('content  AUC')
  }, 600_000)
})
