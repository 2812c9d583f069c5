import { defineConfig } from 'vitest/config';

// Every test file gets its own database (a temp SQLite file or a fresh MySQL database) and port 0,
// so files can run in parallel. Timeouts are deadlines for polls, never sleeps.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
