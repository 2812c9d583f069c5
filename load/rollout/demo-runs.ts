// results/demo-runs.jsonl: one line per finished `make demo`, kept across runs (demo-summary.json holds only the
// latest). make bench judges the demo's p99 drift over the latest three rollout runs of it.
import fs from 'node:fs';
import path from 'node:path';

export const DEMO_RUNS_FILE = 'demo-runs.jsonl';

/** One finished demo: what the drift figure needs (per-step p99), and what it ran on. */
export interface DemoRun {
  at: string;
  scenario: string;
  database: string;
  passed: boolean;
  wallSeconds: number;
  /**
   * DEMO_RATE, the requests per second the load was paced at; null when it ran as fast as the answers came (then
   * each step's rate is whatever its instances could serve, and the steps' p99 are not comparable). Absent in lines
   * written before 3 Dec 2026.
   */
  rate?: number | null;
  /**
   * perSecond: the requests per second the step served; clientLoopMaxMs: the demo process's longest event-loop
   * stall in the step, which every request in flight then waited out (both absent in lines before 3 Dec 2026).
   */
  steps: Array<{ step: string; p99: number | null; perSecond?: number; clientLoopMaxMs?: number }>;
}

export function appendDemoRun(resultsDir: string, run: DemoRun): void {
  fs.appendFileSync(path.join(resultsDir, DEMO_RUNS_FILE), `${JSON.stringify(run)}\n`);
}

/** Every finished demo in the file, oldest first; a line that does not parse (a run cut off mid-write) is skipped. */
export function readDemoRuns(resultsDir: string): DemoRun[] {
  const file = path.join(resultsDir, DEMO_RUNS_FILE);
  if (!fs.existsSync(file)) return [];
  const runs: DemoRun[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      runs.push(JSON.parse(line) as DemoRun);
    } catch {
      // not a whole line
    }
  }
  return runs;
}
