import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start real ovsdb-server/ovs-vswitchd, network namespaces and child processes on a 2-core machine.
    maxWorkers: 2,
  },
})
