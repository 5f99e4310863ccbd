/**
 * The encrypted matvec benchmark's report as a table (he-bench.ts measures it).
 */
import type { HeBenchPacked, HeBenchReport } from './he-bench.ts'

/** A human-readable table of the report. */
export function formatHeBench (r: HeBenchReport): string {
  const kib = (b: number): string => `${(b / 1024).toFixed(0)} KiB`
  const ms = (x: number): string => x.toFixed(x < 10 ? 2 : 1)
  const lines = [
    `HE matvec benchmark — ${r.runtime}, one thread, plans for network "${r.network}"`,
    '',
    '| shape (out×in) | exact | user ms (enc+dec) | miner ms | total ms | plain f32 ms | int8 ms | total/f32 | up | down | N, t, n_i×n_o | noise left | predicted total | SEAL-only total, up/down | speed-up |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'
  ]
  for (const s of r.shapes) {
    lines.push(`| ${s.dOut}×${s.dIn} | ${s.exact ? 'yes' : '**NO**'} | ${ms(s.userMs)} (${ms(s.encryptMs)}+${ms(s.decryptMs)}) | ${ms(s.minerMs)} | ${ms(s.totalMs)} | ${s.plainF32Ms.toFixed(3)} | ${s.plainInt8Ms.toFixed(3)} | ${s.ratio.toFixed(0)}× | ${kib(s.bytesUp)} | ${kib(s.bytesDown)} | ${s.params.polyDegree}, 2^${s.params.plainModulusBits}, ${s.params.nI}×${s.params.nO} | ${s.params.noiseBudgetBits} bits | ${ms(s.predicted.totalMs)} | ${s.sealOnly === undefined ? '—' : `${ms(s.sealOnly.totalMs)}, ${kib(s.sealOnly.bytesUp)}/${kib(s.sealOnly.bytesDown)}`} | ${s.sealOnly === undefined ? '—' : `${s.sealOnly.speedup.toFixed(2)}×`} |`)
  }
  const packed = r.shapes.filter(s => s.packed !== undefined)
  if (packed.length > 0) {
    lines.push('', 'Packed scheme (same data, jobs interleaved with the rows above; ratios are packed ÷ coefficient):', '',
      '| shape | exact | user ms (enc+dec) | miner ms | up | down | Galois keys (once) | N, t, n_i, b/a, trees | c0/c1 bits, HE noise margin (bound) | key switches | bytes ratio | miner ratio | user ratio |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    for (const s of packed) {
      const p = s.packed as HeBenchPacked
      lines.push(`| ${s.dOut}×${s.dIn} | ${p.exact ? 'yes' : '**NO**'} | ${ms(p.userMs)} (${ms(p.encryptMs)}+${ms(p.decryptMs)}) | ${ms(p.minerMs)} | ${kib(p.bytesUp)} | ${kib(p.bytesDown)} | ${kib(p.galoisKeyBytes)} | ${p.params.polyDegree}, ${p.params.plainModulus}, ${p.params.nI}, ${p.params.orbitLevels}/${p.params.treeLevels}, ${p.params.trees} | ${p.params.c0Bits}/${p.params.c1Bits}, ${p.params.heMarginBits.toFixed(1)} bits | ${p.keySwitches} | ${p.vsCoeff.bytes.toFixed(3)} | ${p.vsCoeff.minerMs.toFixed(2)} | ${p.vsCoeff.userMs.toFixed(2)} |`)
    }
  }
  if (r.perToken !== undefined) {
    const t = r.perToken
    const mb = (b: number): string => `${(b / 1e6).toFixed(2)} MB`
    lines.push('', `Per token, 768-dim × ${t.layers} layers: coefficient ${mb(t.coeff.bytes)}, miner ${t.coeff.minerMs.toFixed(0)} ms, user ${t.coeff.userMs.toFixed(0)} ms; packed ${mb(t.packed.bytes)} (${(t.packed.bytes / t.coeff.bytes).toFixed(3)}×), miner ${t.packed.minerMs.toFixed(0)} ms (${(t.packed.minerMs / t.coeff.minerMs).toFixed(2)}×), user ${t.packed.userMs.toFixed(0)} ms (${(t.packed.userMs / t.coeff.userMs).toFixed(2)}×); Galois keys ${mb(t.packed.galoisKeyBytes)} once per session.`)
  }
  return lines.join('\n') + '\n'
}
