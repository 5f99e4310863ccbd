/**
 * A page's plan store (he-service.ts `PlanStore`): the planner worker's squeezes remember their
 * plan searches in IndexedDB, so the next visit with the same model plans in milliseconds
 * instead of seconds per layer. What is kept is public: plan parameters by model SHA-256
 * and squeeze options — no key, no prompt, no activation.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'
import type { PlanStore } from './he-service.ts'

/** Database name and version; bump the version with an upgrade step when the shape changes. */
export const PLAN_DB = Object.freeze({ name: 'cerberus-plans', version: 1 })

/** Most memos kept: the oldest written go first (one per model and network, ~10 KB each). */
export const MAX_KEPT_MEMOS = 32

interface PlanSchema extends DBSchema {
  memos: {
    key: string
    value: { readonly key: string, readonly text: string, readonly writtenAt: number }
    indexes: { writtenAt: number }
  }
}

/**
 * The plan store of this worker's origin, or undefined where none should be kept: no
 * IndexedDB, or a worker started by an embedding page (the widget's, whose origin is the
 * host page's: the widget does not write to another site's storage).
 */
export function webPlanStore (scriptUrl: string): PlanStore | undefined {
  if (typeof indexedDB === 'undefined' || new URL(scriptUrl).origin !== self.location.origin) return undefined
  let db: Promise<IDBPDatabase<PlanSchema>> | undefined
  const open = async (): Promise<IDBPDatabase<PlanSchema>> => await (db ??= openDB<PlanSchema>(PLAN_DB.name, PLAN_DB.version, {
    upgrade (d) {
      d.createObjectStore('memos', { keyPath: 'key' }).createIndex('writtenAt', 'writtenAt')
    }
  }))
  return {
    async get (key) {
      return (await (await open()).get('memos', key))?.text
    },
    async put (key, text) {
      const d = await open()
      await d.put('memos', { key, text, writtenAt: Date.now() })
      const keys = await d.getAllKeysFromIndex('memos', 'writtenAt')
      for (const old of keys.slice(0, Math.max(0, keys.length - MAX_KEPT_MEMOS))) await d.delete('memos', old)
    }
  }
}
