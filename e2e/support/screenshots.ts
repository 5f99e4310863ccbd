/**
 * Where e2e screenshots go: test-results/screenshots/ (look at them after a run), or the
 * README's docs/screenshots/ when CERBERUS_UPDATE_SCREENSHOTS=1 — so a test run never
 * changes tracked files by itself.
 */
import { join } from 'node:path'

/** The path for screenshot `name` (e.g. "chat.png"). */
export function screenshotPath (name: string): string {
  return join(process.env.CERBERUS_UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : 'test-results/screenshots', name)
}
