/**
 * The widget's one-line privacy receipt of an answer: what left this browser (all of it
 * ciphertext) and who computed on it. Pure, so it is unit-tested.
 */
import type { AnswerReceipt } from '../app/types.ts'

function plural (n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`
}

/** KiB with one decimal under 10 KiB, whole above ("0.4 KiB", "12 KiB", "1,234 KiB"). */
export function formatKiB (bytes: number): string {
  const kib = bytes / 1024
  return `${kib < 10 ? kib.toFixed(1) : Math.round(kib).toLocaleString('en-US')} KiB`
}

/** "408 KiB sent, all encrypted; 400 results verified by 2 miners" (+ rejections, if any). */
export function receiptLine (r: AnswerReceipt): string {
  const verified = `${plural(r.verified, 'result', 'results')} verified by ${plural(r.miners.length, 'miner', 'miners')}`
  const rejected = r.rejected > 0 ? `; ${plural(r.rejected, 'wrong result', 'wrong results')} caught and recomputed` : ''
  return `${formatKiB(r.bytesUp)} sent, all encrypted; ${verified}${rejected}`
}
