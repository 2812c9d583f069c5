// What every fault scenario shares (load/chaos/<name>.ts): a fresh MySQL/MariaDB database migrated to expand,
// seeded users, app instances in fixed balancer slots, the balancer (nginx unless BALANCER=node), the load
// generator recording every request, a final read of every user, the checker's verdict, and the JSON summary
// in $RESULTS_DIR/chaos-<name>.json. A scenario adds only its fault, its facts and its failed-request budget.
import fs from 'node:fs';
import path from 'node:path';
import { runBackfill } from '../../shared/backfill/backfill.ts';
import { fixedControls } from '../../shared/backfill/controls.ts';
import { silentProgress } from '../../shared/backfill/progress.ts';
import { connectDatabase } from '../../shared/db/connection.ts';
import type { Database } from '../../shared/db/connection.ts';
import { databaseNow, parseDbTime } from '../../shared/db/time.ts';
import { migrateUp } from '../../shared/migrations/runner.ts';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import type { VerifyRecord } from '../../shared/verify/results.ts';
import { runVerify } from '../../shared/verify/verify.ts';
import { startBalancer } from '../infra/balancer/index.ts';
import type { Balancer } from '../infra/balancer/index.ts';
import type { Snapshot, Verdict } from '../proof/checker/index.ts';
import { formatVerdict } from '../proof/checker/format.ts';
import { freshDatabase } from '../run/database.ts';
import type { DemoDatabase } from '../run/database.ts';
import { Fleet } from '../run/fleet.ts';
import { snapshotUsers } from '../run/table-snapshots.ts';
import { formatProgress, runLoad } from '../proof/generator.ts';
import type { LoadSummary } from '../proof/generator.ts';
import { HistoryRecorder } from '../proof/history.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import { judgeRun } from '../run/judgment.ts';
import type { Op } from '../proof/history.ts';
import { haltIfInterrupted, SIGNAL_GRACE_MS } from '../infra/cleanup.ts';
import { startInstanceProcess } from '../infra/instance-process.ts';
import type { AppVersion, InstanceProcess } from '../infra/instance-process.ts';
import { usersRepository } from '../../shared/db/users-repository.ts';
import { EXPAND_PHASE_END } from '../../shared/rollout/state.ts';
import { applySyncMode } from '../../shared/rollout/sync.ts';
import { DEFAULT_SYNC_MODE } from '../../shared/sync/mode.ts';
import type { SyncMode } from '../../shared/sync/mode.ts';

export const SCENARIO_NAMES = ['kill-v2', 'sigterm-rolling', 'db-restart', 'crash-between-writes', 'backfill-resume', 'late-v1', 'cut-off-v2', 'frozen-v1'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ChaosOptions {
  /** CHAOS_SHORT=1: the few-second version `make test-full` runs. */
  short: boolean;
  resultsDir: string;
  /** The machine's shared server (a database of our own is created there); db-restart uses a private one. */
  mysqlUrl: string;
  log: (line: string) => void;
  /**
   * SYNC (default app): under trigger the expand phase records the mode and installs both sync triggers, as
   * `SYNC=trigger npm run db:migrate` does (applySyncMode), and a scenario whose promise changes says how.
   */
  sync?: SyncMode;
  /**
   * crash-between-writes only, for its test: the first PUT sent straight to v2-crash sends its headers and holds its
   * body back this long, so it waits at v2-crash, connected, its handler not yet run. Past the balancer's
   * fail_timeout (2 s) a load PUT through the balancer reaches v2-crash and crashes it meanwhile: what a slow start
   * did by itself on CI (044a925).
   */
  holdFirstDirectPutMs?: number;
}

/** The failed-request budget: how many failures the fault may cost, and why. */
export interface Budget {
  failedRequests: number;
  rule: string;
}

export interface ChaosResult {
  scenario: ScenarioName;
  short: boolean;
  /** The sync mode the scenario ran under (SYNC). */
  sync: SyncMode;
  passed: boolean;
  /** Every broken promise, one line each; empty when passed. */
  failures: string[];
  requests: number;
  acknowledgedWrites: number;
  reads: number;
  unknownOutcomes: number;
  failedRequests: number;
  /** The first few failed requests, one line each (Verdict.failedExamples). */
  failedExamples: string[];
  budget: Budget;
  anomalies: number;
  byKind: Verdict['byKind'];
  statusCounts: Record<string, number>;
  versionsSeen: string[];
  instancesSeen: string[];
  balancer: string;
  seconds: number;
  /** What this scenario measured about its fault (kill time, outage window, drift before and after, ...). */
  facts: Record<string, unknown>;
  examples?: Verdict['examples'];
  history: string;
}

export interface Scenario {
  name: ScenarioName;
  /** What the scenario proves, one sentence (printed, and in docs/reliability.md). */
  proves: string;
  /** What it proves instead under a sync mode that changes its promise (late-v1, frozen-v1 under trigger). */
  provesUnder?: Partial<Record<SyncMode, string>>;
  run(options: ChaosOptions): Promise<ChaosResult>;
}

export interface SlotLayout {
  name: string;
  version: AppVersion;
}

const INSTANCE_START_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One scenario's world. Fields are public on purpose: a scenario file reads like the steps it takes.
 * Everything started here is stopped by finish() (or abandon() when setup itself failed).
 */
export class ChaosRun {
  readonly failures: string[] = [];
  readonly facts: Record<string, unknown> = {};
  readonly snapshots: Snapshot[] = [];
  readonly recorder: HistoryRecorder;
  readonly registry: ReturnType<typeof instanceRegistry>;
  balancer!: Balancer;
  /** The seeded users' keys. */
  seeded: string[] = [];
  private load: { stop: AbortController; done: Promise<LoadSummary> } | undefined;
  private readonly startedAt = performance.now();

  private constructor(
    readonly name: ScenarioName,
    readonly options: ChaosOptions,
    readonly database: DemoDatabase,
    readonly db: Database,
    readonly fleet: Fleet,
    private readonly env: Record<string, string>,
  ) {
    this.recorder = new HistoryRecorder({ fields: mapping.oldColumnNames, file: path.join(options.resultsDir, `chaos-${name}-history.jsonl`), step: 'setup' });
    this.registry = instanceRegistry(db);
  }

  /** The sync mode this run's database records (SYNC; app unless trigger was asked for). */
  get sync(): SyncMode {
    return this.options.sync ?? DEFAULT_SYNC_MODE;
  }

  /**
   * A fresh database (on `serverUrl`, default the shared server), migrated to expand, with `seedUsers` users written
   * as v1 writes them (and `bulkRows` more that the load leaves alone). Under SYNC=trigger the expand phase then
   * records the mode and installs both triggers exactly as `SYNC=trigger npm run db:migrate` does (applySyncMode),
   * after the seed: the seeded users stand for the rows that existed before the rollout, with no profile_data until
   * the backfill (as in `make demo SYNC=trigger`). Every instance starts after this, so each reads the recorded mode.
   */
  static async setup(
    name: ScenarioName,
    options: ChaosOptions,
    {
      layout,
      env = {},
      seedUsers = 200,
      bulkRows = 0,
      serverUrl = options.mysqlUrl,
    }: { layout: SlotLayout[]; env?: Record<string, string>; seedUsers?: number; bulkRows?: number; serverUrl?: string },
  ): Promise<ChaosRun> {
    fs.mkdirSync(options.resultsDir, { recursive: true });
    const database = await freshDatabase('mysql', options.resultsDir, serverUrl);
    const db = await connectDatabase(database.url, { poolMax: 4 });
    try {
      await migrateUp(db, { to: EXPAND_PHASE_END });
      const fleetEnv = { DATABASE_URL: database.url, LOG_LEVEL: 'warn', ...env };
      const fleet = await Fleet.allocate(layout, fleetEnv);
      const run = new ChaosRun(name, options, database, db, fleet, fleetEnv);
      run.seeded = await run.seed(seedUsers, `${name}-seed`);
      // More rows that existed before the rollout, outside the load's keys (judged, never written by the load).
      if (bulkRows > 0) await run.seed(bulkRows, `${name}-bulk`);
      if (run.sync === 'trigger') await applySyncMode(db, 'trigger', (line) => run.log(line));
      return run;
    } catch (err) {
      await db.close();
      await database.drop();
      throw err;
    }
  }

  log(line: string): void {
    this.options.log(`  ${line}`);
  }

  /** Records a broken promise; the scenario goes on (the verdict and the other facts are still worth having). */
  expect(ok: boolean, failure: string): boolean {
    if (!ok) {
      this.failures.push(failure);
      this.log(`FAILED: ${failure}`);
    }
    return ok;
  }

  /**
   * Starts the instance of a slot, as Fleet.start does, but waits up to a minute for it to listen: on a
   * 2-core machine shared with other work, a tsx start-up alone has taken over 20 s.
   */
  async start(name: string, extraEnv: Record<string, string> = {}): Promise<InstanceProcess> {
    const slot = this.fleet.slot(name);
    slot.instance = await startInstanceProcess(slot.version, { ...this.env, ...extraEnv, PORT: String(slot.port), INSTANCE_ID: slot.name }, { timeoutMs: INSTANCE_START_TIMEOUT_MS });
    return slot.instance;
  }

  async startBalancer(): Promise<void> {
    this.balancer = await startBalancer({ upstreams: this.fleet.upstreams, dir: path.join(this.options.resultsDir, `chaos-${this.name}-balancer`) });
    this.log(`balancer (${this.balancer.kind}) at ${this.balancer.url} over ${this.fleet.slots.map((s) => `${s.name}=${s.port}`).join(' ')}`);
  }

  /**
   * Inserts `count` users as v1 writes them and records each in the history as an initial value: every row the
   * checker finds must be explained by the history, or it is a phantom write.
   */
  async seed(count: number, label: string): Promise<string[]> {
    // shared/ still takes the key as the DB gives it (a number): the history's keys are strings.
    const keys = await seedOldColumns(this.db, count, label);
    this.recorder.recordInitial(keys.map((key, i) => ({ key, value: seedValue(label, i) })));
    return keys;
  }

  /**
   * The opening every scenario shares: start `slots` (each name, or [name, its extra env]; default every slot),
   * the balancer, and the load under `step`; wait until `servedBy` answered through the balancer, let the load run
   * `dwellMs`, and take the step's snapshot when `snapshot` is given (whether a v1 may be alive in it).
   */
  async openUnderLoad({
    step,
    slots = this.fleet.slots.map((slot) => slot.name),
    servedBy,
    dwellMs,
    snapshot,
  }: {
    step: string;
    slots?: (string | [string, Record<string, string>])[];
    servedBy: string;
    dwellMs: number;
    snapshot?: { v1MayBeAlive: boolean };
  }): Promise<void> {
    await Promise.all(slots.map((slot) => (typeof slot === 'string' ? this.start(slot) : this.start(slot[0], slot[1]))));
    await this.startBalancer();
    this.step = step;
    this.startLoad();
    await this.servedBy(servedBy);
    await this.dwell(dwellMs);
    if (snapshot) await this.snapshot(step, snapshot.v1MayBeAlive);
  }

  /** Load through the balancer on the seeded users (and the users it creates) until stopLoad(). */
  startLoad({ connections = 8, existingUsers = this.seeded }: { connections?: number; existingUsers?: string[] } = {}): void {
    const stop = new AbortController();
    let lastLine = 0;
    const done = runLoad({
      url: this.balancer.url,
      recorder: this.recorder,
      connections,
      durationSeconds: 600,
      signal: stop.signal,
      existingUsers,
      onProgress: (progress) => {
        if (Date.now() - lastLine < 5000) return;
        lastLine = Date.now();
        this.log(formatProgress(progress));
      },
    });
    this.load = { stop, done };
  }

  async stopLoad(): Promise<LoadSummary | undefined> {
    if (!this.load) return undefined;
    this.load.stop.abort();
    return this.load.done;
  }

  set step(step: string) {
    this.recorder.currentStep = step;
  }

  /**
   * The repair an operator runs before a read-shift gate: the backfill, then verify. Verify starts once the database
   * clock has moved past the backfill's end: the gate counts only a verify that started after it, and in one process
   * the two can fall in the same millisecond, which the gate (rightly) cannot order. Separate commands never do.
   */
  async backfillThenVerify(owner: string): Promise<VerifyRecord> {
    await runBackfill(this.db, { direction: 'forward' }, { controls: fixedControls(), progress: silentProgress() });
    const clock = async () => parseDbTime(await databaseNow(this.db));
    const ended = await clock();
    while ((await clock()) <= ended) await sleep(1);
    return runVerify(this.db, { mode: 'dual', owner });
  }

  /** The load for `ms`, as a scenario's "meanwhile". */
  async dwell(ms: number): Promise<void> {
    await sleep(ms);
  }

  /** Waits until `instance` answered a request through the balancer (it is in the rotation). */
  async servedBy(instance: string, timeoutMs = 30_000): Promise<void> {
    const since = this.recorder.ops.length;
    const deadline = Date.now() + timeoutMs;
    while (!this.recorder.ops.slice(since).some((op) => op.instance === instance && op.outcome === 'ok')) {
      if (Date.now() > deadline) throw new Error(`${instance} served no request through the balancer within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  async snapshot(step: string, v1MayBeAlive: boolean): Promise<void> {
    const rows = await snapshotUsers(this.db);
    this.snapshots.push({ step, takenAt: this.recorder.now(), v1MayBeAlive, rows });
  }

  /** Operations invoked in [from, to) on the history's clock and answered (or given up) by now. */
  opsBetween(from: number, to: number): Op[] {
    const pending = new Set(this.recorder.pending());
    return this.recorder.ops.filter((op) => op.invokeAt >= from && op.invokeAt < to && !pending.has(op));
  }

  /**
   * Stops the load, reads every user's final value through the balancer, judges the history, stops
   * everything, writes the JSON summary. `budget`: the failed requests this fault may cost.
   */
  async finish(budget: Budget | ((verdict: Verdict) => Budget), { v1MayBeAlive = false } = {}): Promise<ChaosResult> {
    // Interrupted: the run is not judged (the interrupt stops everything and marks the results incomplete).
    await haltIfInterrupted();
    // Each part of the judgment must run, or the scenario fails naming it (load/run/judgment.ts).
    await this.stopLoad().catch((err: Error) => this.expect(false, `stopping the load: ${err.message}`));
    const { verdict, judgment } = await judgeRun({
      runner: `chaos ${this.name}`,
      recorder: this.recorder,
      snapshots: this.snapshots,
      finalSnapshot: async () => ({ step: 'final', rows: await snapshotUsers(this.db), takenAt: this.recorder.now(), v1MayBeAlive }),
      finalReadFrom: this.balancer?.url ?? null,
    }).finally(() => this.teardown());
    for (const line of judgment.missing()) this.expect(false, `${line}: the verdict is incomplete`);
    const resolved = typeof budget === 'function' ? budget(verdict) : budget;
    this.expect(verdict.anomalies === 0, `${verdict.anomalies} anomalies (must be 0)`);
    this.expect(
      verdict.failedRequests <= resolved.failedRequests,
      `${verdict.failedRequests} failed requests, over the budget of ${resolved.failedRequests} (${resolved.rule}); the first: ${verdict.failedExamples.slice(0, 5).join(' | ')}`,
    );
    const result: ChaosResult = {
      scenario: this.name,
      short: this.options.short,
      sync: this.sync,
      passed: this.failures.length === 0,
      failures: this.failures,
      requests: verdict.operations,
      acknowledgedWrites: verdict.acknowledgedWrites,
      reads: verdict.reads,
      unknownOutcomes: verdict.unknownOutcomes,
      failedRequests: verdict.failedRequests,
      failedExamples: verdict.failedExamples,
      budget: resolved,
      anomalies: verdict.anomalies,
      byKind: verdict.byKind,
      statusCounts: verdict.statusCounts,
      versionsSeen: verdict.versionsSeen,
      instancesSeen: verdict.instancesSeen,
      balancer: this.balancer?.kind ?? 'none',
      seconds: Math.round((performance.now() - this.startedAt) / 100) / 10,
      facts: this.facts,
      ...(verdict.anomalies > 0 ? { examples: verdict.examples } : {}),
      history: this.recorder.file ?? '',
    };
    fs.writeFileSync(path.join(this.options.resultsDir, `chaos-${this.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    this.options.log(formatVerdict(verdict));
    this.options.log(judgment.describe());
    return result;
  }

  /** Setup or the fault itself threw: stop everything and report the run as failed, with what is known. */
  async abandon(err: unknown, budget: Budget): Promise<ChaosResult> {
    await haltIfInterrupted(SIGNAL_GRACE_MS);
    this.expect(false, `scenario aborted: ${(err as Error).stack ?? String(err)}`);
    return this.finish(budget);
  }

  private async teardown(): Promise<void> {
    await this.fleet.stopAll().catch(() => {});
    await this.balancer?.stop().catch(() => {});
    await this.db.close().catch(() => {});
    await this.database.drop().catch(() => {});
  }
}

/** The i-th seeded user's value under `label` (letters, digits, '-'), through the mapping: one per old column. */
export const seedValue = (label: string, i: number) => mapping.sampleFields(`${label}-${i}`, 'example.test');

/** Users as v1 writes them (old columns only, profile_data NULL), 500 per INSERT; returns their ids in order. */
export async function seedOldColumns(db: Database, count: number, label: string): Promise<string[]> {
  const users = usersRepository(db);
  const perInsert = Math.min(500, users.maxRowsPerInsert());
  const ids: string[] = [];
  for (let start = 0; start < count; start += perInsert) {
    const size = Math.min(perInsert, count - start);
    // The load's keys are opaque strings; the repository gives them as the database does.
    ids.push(...(await db.transaction((tx) => users.insertMany(Array.from({ length: size }, (_, k) => seedValue(label, start + k)), {}, tx))).map(String));
  }
  return ids;
}

/** Runs one scenario and turns an exception into a failed result, so `make chaos` always reports every scenario. */
export async function guarded(run: ChaosRun, budget: Budget, body: () => Promise<Budget | ((verdict: Verdict) => Budget) | void>, finishOptions?: { v1MayBeAlive?: boolean }): Promise<ChaosResult> {
  let finalBudget: Budget | ((verdict: Verdict) => Budget) = budget;
  try {
    finalBudget = (await body()) ?? budget;
  } catch (err) {
    return run.abandon(err, budget);
  }
  return run.finish(finalBudget, finishOptions);
}
