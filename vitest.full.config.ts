import { defineConfig } from 'vitest/config';
import { FULL_ONLY, shared, timingReporter } from './vitest.config.ts';

// make test-full: only the long matrices (`*.full.test.ts`), run by CI after make test (.ci/run). One file:
// npx vitest run --config vitest.full.config.ts test/path/x.full.test.ts
export default defineConfig({
  test: {
    ...shared,
    include: FULL_ONLY,
    reporters: ['default', timingReporter('test-timings-full.json')],
  },
});
