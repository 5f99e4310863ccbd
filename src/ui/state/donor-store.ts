/**
 * The donor slice: a mirror of this tab's {@link Donor} state (jobs served, bytes,
 * throughput), plus what the page knows before a donor exists.
 */
import { createStore } from 'zustand/vanilla'
import type { Donor, DonorState } from '../../app/types.ts'

const initialState: DonorState = { status: 'off', workers: 0, jobs: 0, failed: 0, bytesIn: 0, bytesOut: 0, computeMs: 0, throughput: [], device: 'cpu', webgpuAvailable: false }

export const donorStore = createStore<DonorState>()(() => initialState)

/** Mirror `donor` from now on; returns the function that stops mirroring it. */
export function bindDonor (donor: Donor): () => void {
  donorStore.setState(donor.getState(), true)
  return donor.subscribe(s => { donorStore.setState(s, true) })
}

/** Back to the initial state (tests). */
export function resetDonorStore (): void {
  donorStore.setState(initialState, true)
}
