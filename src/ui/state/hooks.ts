/**
 * Thin React bindings of the vanilla stores. Select one field at a time (atomic
 * selectors) so a component re-renders only when that field changes.
 */
import { useStore } from 'zustand'
import { generationStore, type GenerationState } from './generation-store.ts'
import { modelStore, type ModelState } from './model-store.ts'

/** Read from the generation slice, e.g. `useGeneration((s) => s.status)`. */
export function useGeneration<T> (selector: (state: GenerationState) => T): T {
  return useStore(generationStore, selector)
}

/** Read from the model slice, e.g. `useModel((s) => s.model)`. */
export function useModel<T> (selector: (state: ModelState) => T): T {
  return useStore(modelStore, selector)
}
