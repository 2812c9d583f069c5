// make bench, part `demo`: `make demo`'s wall time, read from the latest results/demo-summary.json, and its p99
// drift over the latest 3 paced rollout demos (results/demo-runs.jsonl, one line per finished demo; `make drift` runs
// them at DEMO_RATE=300), rather than run inside the bench (a demo alone takes a minute or more, on SQLite by
// default). The drift: each step without instance churn or a backfill (3, 4, 7-10) against step 2's p99, at a similar
// rate, the worst of each demo judged against <= 1.3x over the demos (median shown, spread judged). Fewer than 3 paced
// demos, or none, is inconclusive; so is a pass where a step did not hold the pace.
import fs from 'node:fs';
import path from 'node:path';
import type { BenchContext, BenchPart } from '../context.ts';
import { median } from '../http-load.ts';
import { DEMO_DRIFT_RATE, DEMO_DRIFT_RUNS, DEMO_RATE_TOLERANCE, demoDriftOverRuns, judged } from '../report.ts';
import { DEMO_RUNS_FILE, readDemoRuns } from '../../rollout/demo-runs.ts';

export const demoPart: BenchPart<BenchContext> = {
  name: 'demo',
  what: () => `make demo's wall time (its latest summary) and p99 drift (its latest ${DEMO_DRIFT_RUNS} paced rollout runs)`,
  plannedSeconds: () => 0,
  async measure({ options, raw }) {
    const file = path.join(options.resultsDir, 'demo-summary.json');
    let candidate = `not measured: run make demo first (no ${path.relative(process.cwd(), file)})`;
    let wallSeconds: number | null = null;
    if (fs.existsSync(file)) {
      const summary = JSON.parse(fs.readFileSync(file, 'utf8')) as { wallSeconds?: number; database?: string; scenario?: string; passed?: boolean };
      const when = fs.statSync(file).mtime.toISOString().slice(0, 16).replace('T', ' ');
      wallSeconds = typeof summary.wallSeconds === 'number' ? summary.wallSeconds : null;
      candidate =
        wallSeconds === null
          ? `not in ${path.relative(process.cwd(), file)} (written before the demo recorded it)`
          : `${wallSeconds.toFixed(0)} s (${summary.scenario ?? '?'}, ${summary.database ?? '?'}, ${summary.passed ? 'passed' : 'failed'}, ${when} UTC)`;
    }
    const runsFile = path.join(options.resultsDir, DEMO_RUNS_FILE);
    const drift = demoDriftOverRuns(readDemoRuns(options.resultsDir));
    const { perRun } = drift;
    raw.demo = { summary: file, wallSeconds, runs: runsFile, driftPerRun: perRun };
    const worst = perRun.length > 0 ? perRun.reduce((a, b) => (b.ratio > a.ratio ? b : a)) : null;
    const some = `${perRun.length} of the ${DEMO_DRIFT_RUNS} demos the goal is judged over`;
    const unpaced = drift.unpaced > 0 ? `; ${drift.unpaced} demo(s) run as fast as the answers came not compared: their steps ran at different rates` : '';
    const rates = (r: (typeof perRun)[number]) =>
      r.rateRange === null ? 'steps\' rates not recorded' : `steps at ${r.rateRange[0].toFixed(2)}-${r.rateRange[1].toFixed(2)}x the pace${r.heldRate ? '' : ` (not within ${DEMO_RATE_TOLERANCE * 100}%)`}`;
    return [
      { key: 'demoWallSeconds', figure: '`make demo` wall time (its latest results/demo-summary.json)', baseline: '-', candidate, ratio: null, ...judged([], null) },
      {
        key: 'demoP99Drift',
        figure: `p99 of the demo's steps without churn or backfill (3, 4, 7-10), the worst, vs step 2's at a similar rate, over its latest ${DEMO_DRIFT_RUNS} paced rollout runs (results/demo-runs.jsonl)`,
        baseline: perRun.length === 0 ? '-' : `step 2: ${perRun.map((r) => r.step2P99.toFixed(1)).join(', ')} ms`,
        candidate:
          worst === null
            ? `not measured: no paced rollout demo in ${path.relative(process.cwd(), runsFile)} (make drift runs ${DEMO_DRIFT_RUNS} at DEMO_RATE=${DEMO_DRIFT_RATE})${unpaced}`
            : `${perRun.map((r) => `${r.step} ${r.ratio.toFixed(2)}x at ${r.rate}/s, ${rates(r)}`).join('; ')} (${drift.database}${perRun.length < DEMO_DRIFT_RUNS ? `; ${some}: inconclusive until ${DEMO_DRIFT_RUNS}` : ''}${unpaced})`,
        ratio: perRun.length > 0 ? median(perRun.map((r) => r.ratio)) : null,
        spread: drift.spread,
        goal: drift.goal,
        verdict: drift.verdict,
        ...(perRun.length > 0 ? { detail: { perRound: perRun.map((r) => Number(r.ratio.toFixed(3))), runs: perRun } } : {}),
      },
    ];
  },
};

