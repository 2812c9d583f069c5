// Running `make demo` (load/rollout/demo.ts) as a process inside a test: on MySQL/MariaDB behind the balancer, short
// steps, results in a temp dir; resolves with its exit code, everything it printed and its demo-summary.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { readDemoRuns } from '../../load/rollout/demo-runs.ts';
import type { DemoRun as RecordedDemoRun } from '../../load/rollout/demo-runs.ts';
import { spawnTsx } from '../support/scripts.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface DemoRun {
  code: number | null;
  output: string;
  summary: {
    passed: boolean;
    anomalies: number;
    byKind: Record<string, number>;
    failedRequests: number;
    /** Lookups answered (GET <route>?<param>=), judged with the reads. */
    lookups: number;
    versionsSeen: string[];
    steps: { step: string; byVersion: Record<string, number>; anomalies: number; requests: number }[];
    /** step -> kind -> count, only where anomalies were found; "final" holds the final read's and snapshot's. */
    anomaliesByStep: Record<string, Record<string, number>>;
  };
  /** The line the run appended to results/demo-runs.jsonl (what make drift judges), or null. */
  recorded: RecordedDemoRun | null;
}

/**
 * The short demos of make test cap the load (DEMO_RATE): a demo at full pace takes both cores of a 2-core machine
 * for its whole run, so the demos in make test would mostly wait for each other. What a demo costs follows its
 * requests (about 5 ms of CPU each across the load, nginx, the instances and the database, at this pace), and the
 * short demos are the largest part of make test's time: at 100 req/s a one-second step still sees about a hundred
 * operations from 8 concurrent connections, the read-shift step over a thousand, a run about five thousand. The
 * full-pace runs are in make test-full (*.full.test.ts) and `make demo` itself.
 */
export const SHORT_DEMO = { DEMO_RATE: '100' } as const;

export function runDemo(env: Record<string, string>): Promise<DemoRun> {
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-demo-'));
  return new Promise((resolve) => {
    const child = spawnTsx('load/rollout/demo.ts', [], {
      cwd: ROOT,
      env: { ...process.env, DB: 'mysql', RESULTS_DIR: resultsDir, DEMO_STEP_SECONDS: '1', DEMO_SEED_USERS: '100', ...env },
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('close', (code) => {
      const file = path.join(resultsDir, 'demo-summary.json');
      const summary = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
      const recorded = readDemoRuns(resultsDir).at(-1) ?? null;
      fs.rmSync(resultsDir, { recursive: true, force: true });
      resolve({ code, output, summary, recorded });
    });
  });
}

/** The correct rollout's verdict: 0 anomalies, 0 failed requests, exit 0, every step run, both versions served at once. */
export function expectCleanRollout(run: DemoRun): void {
  expect(run.summary, run.output).not.toBeNull();
  expect(run.summary.anomalies, run.output).toBe(0);
  expect(run.summary.failedRequests, run.output).toBe(0);
  expect(run.code, run.output).toBe(0);
  expect(run.summary.versionsSeen).toEqual(['v1', 'v2']);
  const mixed = run.summary.steps.filter((s) => (s.byVersion.v1 ?? 0) > 0 && (s.byVersion.v2 ?? 0) > 0);
  expect(mixed.length, 'steps where v1 and v2 both answered').toBeGreaterThan(0);
  expect(run.summary.steps.map((s) => s.step)).toContain('11-contract');
  expect(run.output).toContain('nginx');
}

/** The anti-pattern runs' steps, in order (steps 0-5, or 0-11 for one-way-trigger, then the final read and snapshot). */
const STEP_ORDER = ['0-base', '1-expand', '2-dual-write', '3-cross-version', '4-dual-read', '5-retire-v1', '6-backfill', '7-verify', '8-read-shift', '9-live', '10-new-only', '11-contract', 'final'];

type Windows = Record<string, [earliest: string, latest: string]>;
export interface ExpectedKinds {
  /** What else the scenario needs (one-way-trigger: SYNC=trigger). */
  env?: Record<string, string>;
  kinds: Windows;
  mayAlso?: Windows;
  /** Lines the demo must print at least this many times (new-first-crash: its crashes and the restarts after them). */
  printsAtLeast?: [pattern: RegExp, times: number][];
}

/**
 * Per anti-pattern: every kind it must produce, with the window of steps it first appears in, and (mayAlso) a
 * kind it produces only when the load happens to do something: no other kind may appear.
 */
export const ANTI_PATTERN_KINDS: Record<string, ExpectedKinds> = {
  // v2's creates leave the old columns empty (v1 reads them: garbage) and its updates reach only profile_data
  // (the step's snapshot: new ahead of old; v1 and v2 read the old value: stale; never seen by the end: lost).
  'new-only-write': { kinds: { garbage: ['2-dual-write', '3-cross-version'], newAheadOfOld: ['2-dual-write', '3-cross-version'], stale: ['2-dual-write', '4-dual-read'], lost: ['final', 'final'] } },
  // Each anti-pattern v2 dies after its 5th update, answered, with only profile_data written: the snapshot the
  // demo takes as the instance exits shows it. The demo restarts it, and it crashes again. Timing widens the window:
  // when another instance rewrote the row first (a fresh-clone CI run), the evidence is gone and a later crash (up to
  // step 5) shows it. A read of that user before anyone writes it again is stale (a later write hides it); a torn row
  // nobody wrote again reads as its older value at the end (lost), when a restarted v2 serves the final read.
  'new-first-crash': {
    kinds: { newAheadOfOld: ['2-dual-write', '5-retire-v1'] },
    mayAlso: { stale: ['2-dual-write', '5-retire-v1'], lost: ['final', 'final'] },
    printsAtLeast: [
      [/v2-a exited on its own \(SIGKILL\): database snapshot taken now/g, 2],
      [/v2-a restarted, as an orchestrator restarts a crashed instance/g, 1],
    ],
  },
  // The cross-version check itself reads through v2 the value v1 replaced (if the load did not first).
  'prefer-new-read': { kinds: { stale: ['2-dual-write', '3-cross-version'], nonMonotonic: ['2-dual-write', '5-retire-v1'], lost: ['final', 'final'] } },
  // v2 reads profile_data only: seeded users it has not written look missing (404: garbage) from its first read.
  'early-read-shift': { kinds: { garbage: ['2-dual-write', '3-cross-version'], stale: ['2-dual-write', '3-cross-version'], nonMonotonic: ['2-dual-write', '5-retire-v1'], lost: ['final', 'final'] } },
  // Each v2 serves what it cached; the final read through them too.
  'cached-old-read': { kinds: { stale: ['2-dual-write', '4-dual-read'], nonMonotonic: ['2-dual-write', '4-dual-read'], lost: ['final', 'final'] } },
  // v2's PATCH reaches profile_data only: v1 and v2 read the old field (stale) from the first patch v2 serves, a
  // snapshot shows the new column ahead of the old one for that field, and the patch never shows at the end.
  'patch-new-only': { kinds: { stale: ['2-dual-write', '4-dual-read'], lost: ['final', 'final'] }, mayAlso: { newAheadOfOld: ['2-dual-write', '5-retire-v1'] } },
  // A queued upsert writes back what a read saw a second earlier: it undoes the writes in between (stale) and
  // brings deleted rows back (the final read finds them: lost). A read that goes back is non-monotonic only where a
  // read saw the undone value and the undone write had not completed before the later read began (else the write
  // is the evidence, and it is stale): timing decides (a fresh-clone CI run on MariaDB had 46 stale, 6 lost, none).
  'upsert-repair': { kinds: { stale: ['2-dual-write', '4-dual-read'], lost: ['final', 'final'] }, mayAlso: { nonMonotonic: ['2-dual-write', '5-retire-v1'] } },
  // v2 answers lookups through profile_data's index while v1 still writes the old columns alone: a row v1 changed
  // is missed by its new value (stale: missed by a lookup) or found with old fields; timing decides whether a read
  // then goes back in time (non-monotonic).
  'lookup-new-early': { kinds: { stale: ['2-dual-write', '4-dual-read'] }, mayAlso: { nonMonotonic: ['2-dual-write', 'final'] } },
  // SYNC=trigger with the up trigger only: the whole rollout runs, and v1-b serves through new-only. There v2
  // writes profile_data alone and nothing copies it down: the step's snapshot shows the new column ahead of the
  // old one, and v1-b reads the old value (stale: the step's own check, a v2 write then a v1-b read, and the
  // load's) until the contract step retires it, whose dual verify fails the demo. Where the load happens to read
  // through v2 and v1-b in turn: non-monotonic; to PATCH through v1-b a row v2 rewrote (its stale old columns
  // copied up over v2's value): lost at the final read.
  'one-way-trigger': {
    env: { SYNC: 'trigger' },
    kinds: { newAheadOfOld: ['10-new-only', '10-new-only'], stale: ['10-new-only', '10-new-only'] },
    mayAlso: { nonMonotonic: ['10-new-only', 'final'], lost: ['final', 'final'] },
  },
};

/** The first step (in STEP_ORDER) with an anomaly of this kind. */
function firstStepOf(byStep: Record<string, Record<string, number>>, kind: string): string | undefined {
  return STEP_ORDER.find((step) => (byStep[step]?.[kind] ?? 0) > 0);
}

/**
 * An anti-pattern demo must report exactly its kinds, each first seen within its window of steps, and exit
 * non-zero. A window is one step where the scenario decides it (the snapshot at the end of the step v2 starts in,
 * the cross-version check, the final read), and wider where timing decides it (which load request reads a
 * damaged row first).
 */
export function expectCaught(run: DemoRun, { kinds, mayAlso = {}, printsAtLeast = [] }: ExpectedKinds): void {
  expect(run.summary, run.output).not.toBeNull();
  expect(run.code).not.toBe(0);
  for (const [pattern, times] of printsAtLeast) expect(run.output.match(pattern)?.length ?? 0, `${pattern} in the demo's output`).toBeGreaterThanOrEqual(times);
  const found = Object.keys(run.summary.byKind).filter((kind) => run.summary.byKind[kind]! > 0);
  const byStep = JSON.stringify(run.summary.anomaliesByStep);
  expect(found.filter((kind) => !(kind in mayAlso)).sort(), byStep).toEqual(Object.keys(kinds).sort());
  for (const kind of found) {
    const [earliest, latest] = kinds[kind] ?? mayAlso[kind]!;
    const first = STEP_ORDER.indexOf(firstStepOf(run.summary.anomaliesByStep, kind)!);
    expect(first, `${kind} first seen outside ${earliest}..${latest}: ${byStep}`).toBeGreaterThanOrEqual(STEP_ORDER.indexOf(earliest));
    expect(first, `${kind} first seen outside ${earliest}..${latest}: ${byStep}`).toBeLessThanOrEqual(STEP_ORDER.indexOf(latest));
  }
}
