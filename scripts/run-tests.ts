/**
 * `npm test`: everything that proves the project works, in one command.
 *
 *   1. type check (the whole project, and src/core alone without the DOM library)
 *   2. lint (including the layering rules)
 *   3. unit tests (vitest), then the few that measure timing one file at a time
 *      (vitest.config.ts's TESTS_ALONE)
 *   4. end-to-end tests (Playwright in Chromium), inside a loopback-only network namespace
 *      when one can be made (`unshare -n`), so no test packet can leave 127.0.0.1
 *
 * Ends with one line `tests: N passed, M failed[, K skipped]` and a non-zero exit status
 * when anything failed. Without a Chromium the e2e step is skipped with a message — unless
 * CERBERUS_REQUIRE_E2E=1 (CI sets it), then it fails.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'

const results = { passed: 0, failed: 0, skipped: 0 }
const failures: string[] = []
const opts: SpawnSyncOptions = { stdio: 'inherit', env: process.env }

function step (name: string, cmd: string, args: string[]): boolean {
  process.stdout.write(`\n== ${name}: ${cmd} ${args.join(' ')}\n`)
  const t0 = performance.now()
  const r = spawnSync(cmd, args, opts)
  const ok = r.status === 0
  process.stdout.write(`== ${name}: ${ok ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
  return ok
}

function check (name: string, cmd: string, args: string[]): void {
  if (step(name, cmd, args)) results.passed++
  else { results.failed++; failures.push(name) }
}

/** Add the counts of a JSON report (vitest's or Playwright's). */
function count (name: string, file: string, ran: boolean): void {
  if (!existsSync(file)) {
    results.failed++
    failures.push(`${name} (no report: ${ran ? 'the runner crashed' : 'not run'})`)
    return
  }
  const r = JSON.parse(readFileSync(file, 'utf8'))
  if (r.numPassedTests !== undefined) { // vitest
    results.passed += r.numPassedTests
    results.failed += r.numFailedTests
    results.skipped += r.numPendingTests + (r.numTodoTests ?? 0)
    if (r.numFailedTests > 0) failures.push(`${name}: ${r.numFailedTests} failed`)
  } else { // playwright
    const s = r.stats
    results.passed += s.expected + s.flaky
    results.failed += s.unexpected
    results.skipped += s.skipped
    if (s.unexpected > 0) failures.push(`${name}: ${s.unexpected} failed`)
  }
}

function chromiumPath (): string | undefined {
  const candidates = [process.env.CERBERUS_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']
  return candidates.find((p): p is string => p !== undefined && p !== '' && existsSync(p))
}

/** A command prefix that runs its argument in a fresh network namespace with only loopback up. */
function loopbackNamespace (): string[] | undefined {
  for (const unshare of [['unshare', '-n'], ['unshare', '-rn']]) {
    const probe = spawnSync(unshare[0], [...unshare.slice(1), 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' })
    if (probe.status === 0) return [...unshare, 'sh', '-c', 'ip link set lo up && exec "$0" "$@"']
  }
  return undefined
}

mkdirSync('test-results', { recursive: true })
check('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json'])
check('typecheck src/core without DOM', 'npx', ['tsc', '-p', 'tsconfig.core.json'])
check('lint', 'npx', ['eslint', '.'])

const unitRan = step('unit tests', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/unit.json'])
count('unit tests', 'test-results/unit.json', unitRan)
process.env.CERBERUS_TESTS_ALONE = '1'
const aloneRan = step('unit tests that measure timing, one file at a time', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/unit-alone.json'])
delete process.env.CERBERUS_TESTS_ALONE
count('unit tests that measure timing', 'test-results/unit-alone.json', aloneRan)

const chromium = chromiumPath()
if (chromium === undefined) {
  const msg = 'no Chromium found (install it: apt-get install -y chromium; or set CERBERUS_CHROMIUM to a Chromium binary)'
  if (process.env.CERBERUS_REQUIRE_E2E === '1') {
    results.failed++
    failures.push(`e2e: ${msg}`)
  } else {
    process.stdout.write(`\n== e2e: SKIPPED — ${msg}\n`)
    results.skipped++
  }
} else {
  const ns = loopbackNamespace()
  if (ns === undefined) process.stdout.write('\n== e2e: note — could not create a loopback-only network namespace (unshare -n); running without it\n')
  const cmd = [...(ns ?? []), 'npx', 'playwright', 'test']
  const e2eRan = step('e2e tests', cmd[0], cmd.slice(1))
  count('e2e tests', 'test-results/e2e.json', e2eRan)
}

process.stdout.write(`\n${failures.length > 0 ? `failed: ${failures.join('; ')}\n` : ''}tests: ${results.passed} passed, ${results.failed} failed${results.skipped > 0 ? `, ${results.skipped} skipped` : ''}\n`)
process.exitCode = results.failed > 0 ? 1 : 0
