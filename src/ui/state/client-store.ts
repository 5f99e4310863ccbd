/**
 * The client slice: a mirror of the {@link CerberusClient}'s state (model, first-run
 * progress, relay, peers), so components select from a zustand store like every other
 * slice. The client itself lives outside React (src/ui/runtime); `bindClient` connects
 * one, and a new one replaces it when the relay changes.
 */
import { createStore } from 'zustand/vanilla'
import type { CerberusClient, ClientState } from '../../app/types.ts'

const initialState: ClientState = { status: 'idle', relay: { address: '', connected: false }, peers: [], minersReady: 0 }

export const clientStore = createStore<ClientState>()(() => initialState)

/** Mirror `client` from now on; returns the function that stops mirroring it. */
export function bindClient (client: CerberusClient): () => void {
  clientStore.setState(client.getState(), true)
  return client.subscribe(s => { clientStore.setState(s, true) })
}

/** No client can run (e.g. no relay address known): show why, and what to do. */
export function setClientUnavailable (error: { code: string, message: string }, relay = ''): void {
  clientStore.setState({ ...initialState, status: 'error', error, relay: { address: relay, connected: false } }, true)
}

/** Back to the initial state (tests). */
export function resetClientStore (): void {
  clientStore.setState(initialState, true)
}
