// make bench, part `demo`: `make demo`'s wall time and its p99 drift, read from the latest
// results/demo-summary.json rather than run inside the bench (the demo alone takes minutes, on SQLite by default).
// The drift: each step without instance churn or a backfill (3, 4, 7-10) against step 2's p99, the worst judged
// against <= 1.3x; without a rollout summary it is unmeasured, so inconclusive.
import fs from 'node:fs';
import path from 'node:path';
import type { BenchContext, BenchPart } from '../context.ts';
import { DEMO_FLAT_STEPS, demoP99Drift, judged } from '../report.ts';

export const demoPart: BenchPart<BenchContext> = {
  name: 'demo',
  what: () => "make demo's wall time and p99 drift, from its latest summary",
  plannedSeconds: () => 0,
  async measure({ options, raw }) {
    const file = path.join(options.resultsDir, 'demo-summary.json');
    let candidate = `not measured: run make demo first (no ${path.relative(process.cwd(), file)})`;
    let wallSeconds: number | null = null;
    let drift: Record<string, number> | null = null;
    let step2P99: number | null = null;
    if (fs.existsSync(file)) {
      const summary = JSON.parse(fs.readFileSync(file, 'utf8')) as { wallSeconds?: number; database?: string; scenario?: string; passed?: boolean; steps?: Array<{ step: string; p99: number | null }> };
      drift = summary.steps ? demoP99Drift(summary.steps) : null;
      step2P99 = summary.steps?.find((s) => s.step === DEMO_FLAT_STEPS[0])?.p99 ?? null;
      const when = fs.statSync(file).mtime.toISOString().slice(0, 16).replace('T', ' ');
      wallSeconds = typeof summary.wallSeconds === 'number' ? summary.wallSeconds : null;
      candidate =
        wallSeconds === null
          ? `not in ${path.relative(process.cwd(), file)} (written before the demo recorded it)`
          : `${wallSeconds.toFixed(0)} s (${summary.scenario ?? '?'}, ${summary.database ?? '?'}, ${summary.passed ? 'passed' : 'failed'}, ${when} UTC)`;
    }
    raw.demo = { summary: file, wallSeconds, p99VsStep2: drift };
    // Flat p99 through a demo run: the worst of the steps without churn or backfill against step 2.
    const worst = drift ? Object.entries(drift).reduce((a, b) => (b[1] > a[1] ? b : a)) : null;
    return [
      { key: 'demoWallSeconds', figure: '`make demo` wall time (its latest results/demo-summary.json)', baseline: '-', candidate, ratio: null, ...judged([], null) },
      {
        key: 'demoP99Drift',
        figure: "p99 of the demo's steps without churn or backfill (3, 4, 7-10), the worst, vs step 2's (its latest results/demo-summary.json)",
        baseline: step2P99 === null ? '-' : `step 2: ${step2P99.toFixed(1)} ms`,
        candidate: worst ? `${worst[0]}: ${(worst[1] * step2P99!).toFixed(1)} ms` : 'not measured: no rollout demo summary with per-step p99 (run make demo)',
        ratio: worst ? worst[1] : null,
        ...judged(worst ? [worst[1]] : [], { atMost: 1.3, unit: 'x' }),
        ...(drift ? { detail: { perStep: drift } } : {}),
      },
    ];
  },
};
