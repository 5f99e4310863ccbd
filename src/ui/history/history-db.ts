/**
 * Conversation history in IndexedDB (through `idb`): one object store keyed by id, an
 * index on `updatedAt` for the list. Everything stays in this browser; nothing of it is
 * ever sent anywhere.
 */
import { openDB, type DBSchema } from 'idb'
import type { Conversation, HistoryStore } from './types.ts'

/** Database name and version; bump the version with an upgrade step when the shape changes. */
export const HISTORY_DB = Object.freeze({ name: 'cerberus-history', version: 1 })

interface HistorySchema extends DBSchema {
  conversations: {
    key: string
    value: Conversation
    indexes: { updatedAt: number }
  }
}

/**
 * Open (or create) the history database.
 * @throws the browser's error when IndexedDB is unavailable (some private modes); callers
 * fall back to {@link createMemoryHistory} and say so.
 */
export async function openHistoryDb (name: string = HISTORY_DB.name): Promise<HistoryStore> {
  const db = await openDB<HistorySchema>(name, HISTORY_DB.version, {
    upgrade (d) {
      const store = d.createObjectStore('conversations', { keyPath: 'id' })
      store.createIndex('updatedAt', 'updatedAt')
    }
  })
  return {
    persistent: true,
    async list () {
      return (await db.getAllFromIndex('conversations', 'updatedAt')).reverse()
    },
    async put (c) {
      await db.put('conversations', c)
    },
    async delete (id) {
      await db.delete('conversations', id)
    }
  }
}

/** History kept in memory only: used when IndexedDB cannot be opened (lost on reload). */
export function createMemoryHistory (): HistoryStore {
  const items = new Map<string, Conversation>()
  return {
    persistent: false,
    async list () {
      return [...items.values()].sort((a, b) => b.updatedAt - a.updatedAt)
    },
    async put (c) {
      items.set(c.id, c)
    },
    async delete (id) {
      items.delete(id)
    }
  }
}
