// Which test files start first. make test runs on two workers, and the wall time is set by the worker that ends
// last: a two-minute demo file started last keeps one worker busy while the other idles (longest first is the
// classic fix). vitest orders by the durations in its cache, and without one (a fresh clone: CI, a new
// developer) by file size, which puts the short demo files, the slowest of all, last. So the files known to be
// slow (results/test-timings.json of a CI run) go first, slowest first, whatever the cache says; the rest keep
// vitest's order.
import { BaseSequencer } from 'vitest/node';
import type { TestSpecification } from 'vitest/node';

/** Slowest first, from CI's timing table (seconds in brackets as measured there, December 2026). */
export const SLOW_FILES = [
  'test/demo/demo.test.ts', // 129
  'test/demo/prefer-new-read.test.ts', // 76
  'test/bench/bench.test.ts', // 62
  'test/interrupts/demo.test.ts', // 58
  'test/replica/demo-replica-reads.test.ts', // 46
  'test/rollout/transitions.test.ts', // 28
  'test/template/compose.test.ts', // 28
  'test/rollout/late-writers.test.ts', // 23
  'test/contract/contract.test.ts', // 22
  'test/shared/registry/instances.test.ts', // 22
  'test/load/generator.test.ts', // 21
  'test/backfill/resume-after-kill.test.ts', // 20
];

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const relative = spec.moduleId.slice(spec.project.config.root.length + 1);
      const index = SLOW_FILES.indexOf(relative);
      return index === -1 ? SLOW_FILES.length : index;
    };
    // Array.prototype.sort is stable: files of equal rank keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
