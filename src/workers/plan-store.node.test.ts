/**
 * The directory plan store: what is put is got back by its key only; a file that is not
 * ours is none; the oldest beyond the bound are removed.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { dirPlanStore, MAX_KEPT_PLAN_FILES } from './plan-store.node.ts'

const dir = mkdtempSync(join(tmpdir(), 'cerberus-plan-store-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

describe('a directory plan store', () => {
  it('gets what was put under a key, nothing under another; a corrupt or foreign file is none; it keeps at most the bound', async () => {
    const store = dirPlanStore(join(dir, 'made-on-first-put'))
    expect(await store.get('a')).toBeUndefined()
    await store.put('a', 'memo of a')
    expect(await store.get('a')).toBe('memo of a')
    expect(await store.get('b')).toBeUndefined()
    const [file] = readdirSync(join(dir, 'made-on-first-put'))
    for (const text of ['not json', '{"key":"other","text":"x"}', '{"key":"a","text":3}', 'null']) {
      writeFileSync(join(dir, 'made-on-first-put', file), text)
      expect(await store.get('a')).toBeUndefined()
    }
    const many = dirPlanStore(join(dir, 'many'))
    const t0 = Date.now() / 1000 - 1000
    for (let i = 0; i < MAX_KEPT_PLAN_FILES + 3; i++) {
      const before = new Set(existsSync(join(dir, 'many')) ? readdirSync(join(dir, 'many')) : [])
      await many.put(`k${i}`, String(i))
      // each file a second newer than the last, so "oldest" is well defined
      for (const n of readdirSync(join(dir, 'many'))) if (!before.has(n)) utimesSync(join(dir, 'many', n), t0 + i, t0 + i)
    }
    expect(readdirSync(join(dir, 'many')).length).toBe(MAX_KEPT_PLAN_FILES)
    expect(await many.get(`k${MAX_KEPT_PLAN_FILES + 2}`)).toBe(String(MAX_KEPT_PLAN_FILES + 2))
    expect(await many.get('k3')).toBe('3')
    for (const gone of ['k0', 'k1', 'k2']) expect(await many.get(gone)).toBeUndefined()
  })
})
