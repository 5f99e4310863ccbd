import { LOCAL_MODE_LABEL } from '../../../app/local-generation.ts'
import type { AnswerReceipt } from '../../../app/types.ts'
import { formatBytes, formatMs, plural, receiptTimeLine, shortPeerId, tokensPerSecond } from '../../format.ts'

/** Props of {@link ReceiptView}: the receipt an answer resolved with (done, or stopped part-way). */
export interface ReceiptViewProps {
  readonly receipt: AnswerReceipt
}

/** The receipt of an answer made in this tab (local mode): nothing was sent, so there is nothing to encrypt or verify. */
function LocalReceipt ({ receipt: r }: ReceiptViewProps) {
  return (
    <div className='receipt' role='group' aria-label='Answer receipt'>
      <p className='receipt-head'>
        <span className='badge badge-local'>On this device</span>
        {' '}{r.stopped === true ? 'Stopped after ' : ''}{plural(r.tokens, 'token')} in {formatMs(r.ms)} ({tokensPerSecond(r.tokens, r.ms).toFixed(1)} tokens/s)
      </p>
      <dl className='receipt-grid'>
        <div className='receipt-wide'><dt>Computed by</dt><dd>local, nothing left this device</dd></div>
        <div className='receipt-wide'><dt>Privacy</dt><dd>{LOCAL_MODE_LABEL}</dd></div>
      </dl>
    </div>
  )
}

/**
 * What one answer cost and who computed it: bytes that left the browser (every one of them
 * ciphertext), bytes received, the miners (short peer ids, full id on hover), and how many
 * encrypted results were verified or rejected, and where the time went.
 */
export function ReceiptView ({ receipt: r }: ReceiptViewProps) {
  if (r.local === true) return <LocalReceipt receipt={r} />
  const ok = r.rejected === 0
  return (
    <div className='receipt' role='group' aria-label='Answer receipt'>
      <p className='receipt-head'>
        <span className={ok ? 'badge badge-ok' : 'badge badge-warn'}>{ok ? 'Encrypted and verified' : 'Encrypted; some results rejected'}</span>
        {' '}{r.stopped === true ? 'Stopped after ' : ''}{plural(r.tokens, 'token')} in {formatMs(r.ms)} ({tokensPerSecond(r.tokens, r.ms).toFixed(1)} tokens/s)
      </p>
      <dl className='receipt-grid'>
        <div><dt>Sent from this browser</dt><dd>{formatBytes(r.bytesUp)}, all ciphertext</dd></div>
        <div><dt>Received</dt><dd>{formatBytes(r.bytesDown)}</dd></div>
        <div><dt>Results verified</dt><dd>{r.verified}</dd></div>
        <div><dt>Results rejected</dt><dd>{r.rejected}{r.rejected > 0 ? ' (recomputed by another miner)' : ''}</dd></div>
        {r.time !== undefined && <div className='receipt-wide'><dt>Where the time went</dt><dd>{receiptTimeLine(r)}</dd></div>}
        {r.firstTokenMs !== undefined && <div><dt>First token</dt><dd>after {formatMs(r.firstTokenMs)}{(r.promptTokens ?? 0) > 0 ? ` (the prompt's ${plural(r.promptTokens ?? 0, 'token')} in one pass)` : ''}</dd></div>}
        <div className='receipt-wide'>
          <dt>Computed by</dt>
          <dd>
            {r.miners.length === 0
              ? 'no miner (nothing was sent)'
              : (
                <ul className='miner-list' aria-label='Miners'>
                  {r.miners.map(m => <li key={m.peerId}><code title={m.peerId} data-peer-id={m.peerId}>{shortPeerId(m.peerId)}</code> {plural(m.jobs, 'job')}</li>)}
                </ul>
                )}
          </dd>
        </div>
      </dl>
    </div>
  )
}
