/**
 * Thin React bindings of the vanilla stores. Select one field at a time (atomic
 * selectors), so a component re-renders only when that field changes.
 */
import { useStore } from 'zustand'
import type { ClientState, DonorState } from '../../app/types.ts'
import { chatStore, type ChatState } from './chat-store.ts'
import { clientStore } from './client-store.ts'
import { donorStore } from './donor-store.ts'
import { settingsStore, type Settings } from './settings-store.ts'
import { modelLoadStore, type ModelLoadState } from './model-load-store.ts'
import { speedStore, type SpeedState } from './speed-store.ts'

export function useChat<T> (selector: (s: ChatState) => T): T {
  return useStore(chatStore, selector)
}

export function useClient<T> (selector: (s: ClientState) => T): T {
  return useStore(clientStore, selector)
}

export function useDonor<T> (selector: (s: DonorState) => T): T {
  return useStore(donorStore, selector)
}

export function useSettings<T> (selector: (s: Settings) => T): T {
  return useStore(settingsStore, selector)
}

export function useSpeed<T> (selector: (s: SpeedState) => T): T {
  return useStore(speedStore, selector)
}

export function useModelLoad<T> (selector: (s: ModelLoadState) => T): T {
  return useStore(modelLoadStore, selector)
}
