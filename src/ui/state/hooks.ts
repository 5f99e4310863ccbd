/**
 * Thin React bindings of the vanilla stores. Select one field at a time (atomic
 * selectors), so a component re-renders only when that field changes. The client's and the
 * donor's state is read from their own stores (the current ones, see session-store.ts).
 */
import { useStore } from 'zustand'
import type { ClientState, DonorState } from '../../app/types.ts'
import { chatStore, type ChatState } from './chat-store.ts'
import { noClientStore, noDonorStore, sessionStore } from './session-store.ts'
import { settingsStore, type Settings } from './settings-store.ts'
import { modelLoadStore, type ModelLoadState } from './model-load-store.ts'
import { speedStore, type SpeedState } from './speed-store.ts'

/** A field of the chat slice. */
export function useChat<T> (selector: (s: ChatState) => T): T {
  return useStore(chatStore, selector)
}

/** A field of the current client's state (or of the no-client state). */
export function useClient<T> (selector: (s: ClientState) => T): T {
  const client = useStore(sessionStore, s => s.client)
  return useStore(client?.store ?? noClientStore, selector)
}

/** A field of the current donor's state (off while there is none). */
export function useDonor<T> (selector: (s: DonorState) => T): T {
  const donor = useStore(sessionStore, s => s.donor)
  return useStore(donor?.store ?? noDonorStore, selector)
}

/** A field of the settings slice. */
export function useSettings<T> (selector: (s: Settings) => T): T {
  return useStore(settingsStore, selector)
}

/** A field of the answer-speed slice. */
export function useSpeed<T> (selector: (s: SpeedState) => T): T {
  return useStore(speedStore, selector)
}

/** A field of the model-load slice. */
export function useModelLoad<T> (selector: (s: ModelLoadState) => T): T {
  return useStore(modelLoadStore, selector)
}
