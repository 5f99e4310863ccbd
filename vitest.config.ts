import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'signaling-server/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    // Two cores here: keep one worker per core.
    maxWorkers: 2
  }
})
