/**
 * The client and the donor in use now. They live outside React (src/app) and own their
 * state as vanilla stores, which the hooks select from directly; this slice only says which
 * ones are current (the runtime replaces both when the relay changes), and what the page
 * shows while there is no client (idle, or why none can run).
 */
import { createStore, type StoreApi } from 'zustand/vanilla'
import type { CerberusClient, ClientState, Donor, DonorState } from '../../app/types.ts'

/** The current client and donor, if any. */
export interface SessionState {
  readonly client?: CerberusClient
  readonly donor?: Donor
}

const IDLE_CLIENT: ClientState = { status: 'idle', relay: { address: '', connected: false }, peers: [], minersReady: 0 }
const DONOR_OFF: DonorState = { status: 'off', workers: 0, jobs: 0, failed: 0, bytesIn: 0, bytesOut: 0, computeMs: 0, throughput: [], device: 'cpu', webgpuAvailable: false }

/** Which client and donor are current. */
export const sessionStore = createStore<SessionState>()(() => ({}))

/** What the page shows while there is no client: idle, or unavailable and why. */
export const noClientStore: StoreApi<ClientState> = createStore<ClientState>()(() => IDLE_CLIENT)

/** The donor state shown while there is no donor. */
export const noDonorStore: StoreApi<DonorState> = createStore<DonorState>()(() => DONOR_OFF)

/** Make `client` and `donor` current (undefined: none). */
export function setSession (client: CerberusClient | undefined, donor: Donor | undefined): void {
  if (client === undefined) noClientStore.setState(IDLE_CLIENT, true)
  sessionStore.setState({ client, donor }, true)
}

/** No client can run (e.g. no relay address known): show why, and what to do. */
export function setClientUnavailable (error: { code: string, message: string }, relay = ''): void {
  sessionStore.setState({}, true)
  noClientStore.setState({ ...IDLE_CLIENT, status: 'error', error, relay: { address: relay, connected: false } }, true)
}

/** The state the page shows now: the current client's, or the no-client state. */
export function currentClientState (): ClientState {
  return sessionStore.getState().client?.getState() ?? noClientStore.getState()
}

/** Back to the initial state (tests). */
export function resetSessionStore (): void {
  setSession(undefined, undefined)
}
