import { defineConfig } from 'vitest/config'

/**
 * Tests that measure what a miner or a user observes in time (a classifier on job timing,
 * validators racing deadlines): on two cores shared with the rest of the suite their
 * timing is the machine's load, not the code's, so they run after it, one file at a time
 * (`CERBERUS_TESTS_ALONE=1`; `npm test` and `npm run test:unit` run both passes).
 */
export const TESTS_ALONE = [
  'src/app/validator-traffic.test.ts',
  'src/app/validator.test.ts',
  'src/cli/validators.test.ts',
  'src/bench/privacy-bench.test.ts'
]

const alone = process.env.CERBERUS_TESTS_ALONE === '1'

export default defineConfig({
  test: {
    include: alone ? TESTS_ALONE : ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'signaling-server/**/*.test.ts'],
    exclude: alone ? [] : ['**/node_modules/**', ...TESTS_ALONE],
    environment: 'node',
    testTimeout: 120_000,
    // Two cores here: keep one worker per core (one file at a time for the tests above).
    maxWorkers: alone ? 1 : 2,
    fileParallelism: !alone
  }
})
