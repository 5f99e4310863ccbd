import type { DonorState } from '../../app/types.ts'
import { formatBytes, formatMs, shortPeerId } from '../format.ts'
import type { DonorActions } from '../runtime/donor-actions.ts'
import { useDonor, useSettings } from '../state/hooks.ts'
import { ErrorMessage } from './error-message.tsx'
import { Sparkline } from './sparkline.tsx'

/** Props of {@link DonatePanel}; the panel reads the donor's state from the current donor's store. */
export interface DonatePanelProps {
  /** On/off, the budget and "pause when hidden" go through these, never straight to the donor. */
  readonly donor: DonorActions
  /** False when no donor can run (no relay known). */
  readonly available: boolean
  /** Logical processors of this machine (navigator.hardwareConcurrency): the budget's top. */
  readonly cores: number
}

function statusText (s: DonorState['status']): string {
  switch (s) {
    case 'off': return 'Off.'
    case 'starting': return 'Starting: loading the model and the encryption library, testing the GPU…'
    case 'on': return 'On: serving encrypted jobs.'
    case 'paused': return 'Paused: taking no new jobs.'
    case 'error': return 'Stopped by an error.'
  }
}

/**
 * Which backend computes, honestly: before the start what will be tried; once started the
 * GPU that passed its self-test, or the CPU and why (no WebGPU, a failed self-test, a lost
 * device). SEAL's NTTs and key switches run on the CPU in both cases.
 */
function deviceText (s: Pick<DonorState, 'device' | 'deviceReason' | 'webgpuAvailable'>): string {
  if (s.deviceReason === undefined) {
    return s.webgpuAvailable
      ? 'Not computing yet. WebGPU detected: when you start, each worker runs a GPU self-test and computes on the GPU (WebGPU) if it passes, else on the CPU (WebAssembly).'
      : 'Not computing yet. WebGPU not detected: this tab will compute on the CPU (WebAssembly).'
  }
  if (s.device === 'gpu') return `Computing on GPU (${s.deviceReason}): the self-test passed. The multiply-accumulate runs on the GPU; the encryption's NTTs and key switches stay on the CPU.`
  return `Computing on CPU (WebAssembly): ${s.deviceReason}.`
}

/** "Donate my GPU": serve other users' encrypted jobs from this tab, on its GPU where it can, within a CPU budget. */
export function DonatePanel ({ donor, available, cores }: DonatePanelProps) {
  const status = useDonor(s => s.status)
  const error = useDonor(s => s.error)
  const jobs = useDonor(s => s.jobs)
  const failed = useDonor(s => s.failed)
  const bytesIn = useDonor(s => s.bytesIn)
  const bytesOut = useDonor(s => s.bytesOut)
  const computeMs = useDonor(s => s.computeMs)
  const throughput = useDonor(s => s.throughput)
  const webgpuAvailable = useDonor(s => s.webgpuAvailable)
  const device = useDonor(s => s.device)
  const deviceReason = useDonor(s => s.deviceReason)
  const timings = useDonor(s => s.timings)
  const peerId = useDonor(s => s.peerId)
  const workers = useSettings(s => s.donorWorkers)
  const pauseWhenHidden = useSettings(s => s.pauseWhenHidden)
  const on = status === 'on' || status === 'paused' || status === 'starting'
  const budget = Math.min(workers, cores)
  const last = throughput.at(-1) ?? 0

  return (
    <section className='panel donate' aria-labelledby='donate-heading'>
      <h2 id='donate-heading'>Donate my GPU</h2>
      <p className='hint'>
        Let this tab compute other people's encrypted layers. It only ever sees ciphertexts and public weights — never their words.
      </p>
      <div className='switch-row'>
        <button
          type='button'
          role='switch'
          aria-checked={on}
          aria-describedby='donate-status'
          className='switch'
          disabled={!available || status === 'starting'}
          onClick={() => { void donor.setOn(!on) }}
        >
          <span className='switch-track' aria-hidden='true'><span className='switch-thumb' /></span>
          <span className='switch-label'>Donate</span>
        </button>
        <span id='donate-status' role='status' className='donate-status'>{available ? statusText(status) : 'Unavailable: no relay to reach other users.'}</span>
      </div>
      {on && peerId !== undefined && <p className='hint'>This tab on the mesh: <code title={peerId} data-testid='donor-peer-id'>{shortPeerId(peerId)}</code> — users' receipts name it when it computes for them.</p>}
      <p className='device-note' data-testid='donor-device'>{deviceText({ device, deviceReason, webgpuAvailable })}</p>
      <div className='field'>
        <label htmlFor='donor-workers'>CPU budget: {budget} of {cores} {cores === 1 ? 'core' : 'cores'}</label>
        <input id='donor-workers' type='range' min={1} max={Math.max(1, cores)} step={1} value={budget} aria-valuetext={`${budget} ${budget === 1 ? 'worker' : 'workers'}`} onChange={(e) => { donor.setWorkers(Number(e.target.value)) }} />
      </div>
      <label className='checkbox'>
        <input type='checkbox' checked={pauseWhenHidden} onChange={(e) => { donor.setPauseWhenHidden(e.target.checked) }} /> Pause when this tab is hidden
      </label>
      <dl className='stats' aria-label='Donated work'>
        <div><dt>Jobs served</dt><dd data-testid='donor-jobs'>{jobs}</dd></div>
        <div><dt>Failures</dt><dd>{failed}</dd></div>
        <div><dt>Received</dt><dd>{formatBytes(bytesIn)}</dd></div>
        <div><dt>Sent</dt><dd>{formatBytes(bytesOut)}</dd></div>
        <div><dt>Compute time</dt><dd>{formatMs(computeMs)}</dd></div>
        <div><dt>Last job on</dt><dd data-testid='donor-last-device'>{timings === undefined ? '—' : timings.last.device === 'gpu' ? 'GPU' : 'CPU'}</dd></div>
        <div><dt>Last job: GPU time</dt><dd data-testid='donor-gpu-ms'>{timings === undefined ? '—' : formatMs(timings.last.gpuMs)}</dd></div>
        <div><dt>Last job: CPU time</dt><dd data-testid='donor-cpu-ms'>{timings === undefined ? '—' : formatMs(timings.last.cpuMs)}</dd></div>
        <div><dt>Jobs on the GPU</dt><dd data-testid='donor-gpu-jobs'>{timings === undefined ? '—' : `${timings.gpuJobs} of ${timings.jobs}`}</dd></div>
        <div><dt>Now</dt><dd>{last.toFixed(1)} jobs/s</dd></div>
      </dl>
      {timings?.last.fallback !== undefined && <p className='hint' role='note'>The GPU failed during a job, which ran again on the CPU: {timings.last.fallback}</p>}
      <Sparkline values={throughput} label={`Jobs per second over the last minute; now ${last.toFixed(1)}`} />
      {status === 'error' && error !== undefined && <ErrorMessage title='Donating stopped' error={error} />}
    </section>
  )
}
