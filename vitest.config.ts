import { configDefaults, defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/support/slow-first-sequencer.ts';

// Every test file gets its own database (a temp SQLite file or a fresh MySQL database) and port 0,
// so files can run in parallel. Timeouts are deadlines for polls, never sleeps.
export const shared = {
  testTimeout: 30_000,
  hookTimeout: 60_000,
  pool: 'forks',
  maxWorkers: 2,
  // The slowest files first, so both workers end together (test/support/slow-first-sequencer.ts).
  sequence: { sequencer: SlowFirstSequencer },
} as const;

// make test is the developer's loop (10 minutes on a quiet 2-core machine); the long matrices live in
// `*.full.test.ts` files beside the short forms and run in make test-full (vitest.full.config.ts), which CI runs
// after make test. A new long matrix is a new `*.full.test.ts` file: nothing to register.
export const FULL_ONLY = ['test/**/*.full.test.ts'];

/** The per-file timing report after every run (test/support/timing-reporter.ts). */
export const timingReporter = (file: string): [string, { file: string }] => ['./test/support/timing-reporter.ts', { file }];

export default defineConfig({
  test: {
    ...shared,
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...FULL_ONLY],
    reporters: ['default', timingReporter('test-timings.json')],
  },
});
