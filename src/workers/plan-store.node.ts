/**
 * A plan store in a directory (he-service.ts `PlanStore`), for Node's HE worker threads:
 * `cerberus serve --plan-cache DIR` squeezes a model once per options and plans from the
 * kept memo on every later start. One file per key (named by the key's SHA-256, the key
 * kept inside to refuse a collision), written to a temporary name and renamed, so a
 * reader never sees half a file; the oldest beyond {@link MAX_KEPT_PLAN_FILES} are removed.
 */
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PlanStore } from './he-service.ts'

/** Most memo files kept in the directory (one per model and options, ~10 KB each). */
export const MAX_KEPT_PLAN_FILES = 64

const fileOf = (dir: string, key: string): string => join(dir, `${createHash('sha256').update(key).digest('hex')}.plan.json`)

/** The plan store of `dir` (made when first written). */
export function dirPlanStore (dir: string): PlanStore {
  return {
    async get (key) {
      let kept: unknown
      try {
        kept = JSON.parse(await readFile(fileOf(dir, key), 'utf8'))
      } catch {
        return undefined // none yet, or not ours: searched for again
      }
      const k = kept as { key?: unknown, text?: unknown }
      return k !== null && typeof k === 'object' && k.key === key && typeof k.text === 'string' ? k.text : undefined
    },
    async put (key, text) {
      await mkdir(dir, { recursive: true })
      const file = fileOf(dir, key)
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`
      await writeFile(tmp, JSON.stringify({ key, text }))
      await rename(tmp, file)
      const names = (await readdir(dir)).filter(n => n.endsWith('.plan.json'))
      if (names.length <= MAX_KEPT_PLAN_FILES) return
      const aged = await Promise.all(names.map(async n => ({ n, t: (await stat(join(dir, n))).mtimeMs })))
      aged.sort((a, b) => a.t - b.t)
      for (const { n } of aged.slice(0, aged.length - MAX_KEPT_PLAN_FILES)) await unlink(join(dir, n)).catch(() => {})
    }
  }
}
