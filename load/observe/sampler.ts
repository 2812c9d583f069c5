// The rollout as a time series, one sample a second, for the live dashboard and the report: requests/s and p99
// per version, errors, anomalies found so far by kind (live-checker.ts), the registry's alive instances with
// their health and the flags each has loaded (GET /healthz on each), read-new-percent and where v2's reads came
// from, backfill progress with ETA (the checkpoint table, 003), drift (the verify history, 004) and database
// load (database-load.ts). Tables that a migration has not created yet read as null, never as an error.
// The live checker looks every LOOK_EVERY_MS, not once a sample: a look is synchronous and its work is the operations
// since the last one, and the load it judges runs in this same process. A second's worth at once (~20 ms at 300
// requests/s, more at the demo's full pace) held up every request in flight, once a second: about 2% of requests,
// which set the demo's p99 (docs/performance.md, 3 Dec 2026, afternoon).
import { APP_VERSIONS } from '../../shared/config.ts';
import { isMissingTable } from '../../shared/db/errors.ts';
import type { Database } from '../../shared/db/connection.ts';
import { readFlagSet } from '../../shared/flags/store.ts';
import type { InstanceRegistry } from '../../shared/registry/instances.ts';
import { dbTime, parseDbTime } from '../../shared/db/time.ts';
import { verifyResults } from '../../shared/verify/results.ts';
import { ANOMALY_KINDS } from '../proof/checker/index.ts';
import type { AnomalyKind, Snapshot } from '../proof/checker/index.ts';
import type { FinalRead, HistoryRecorder } from '../proof/history.ts';
import { databaseLoadProbe, NO_DATABASE_LOAD } from './database-load.ts';
import type { DatabaseLoad } from './database-load.ts';
import { LiveChecker } from './live-checker.ts';
import type { SampleRow, TimedAnomaly } from './report/report.ts';
import { AnsweredOps, RequestSeries } from './request-series.ts';

export interface InstanceView {
  instance: string;
  version: string;
  address: string;
  /** ok, database_unavailable (its /healthz says so), or unreachable (no answer within 800 ms). */
  health: string;
  flagSetVersion: number | null;
  flags: Record<string, unknown> | null;
}

export interface BackfillView {
  run: number;
  status: string;
  keysDone: number;
  keysTotal: number;
  percent: number;
  rowsChanged: number;
  keysPerSecond: number | null;
  etaSeconds: number | null;
}

export interface DriftView {
  verify: number;
  mode: string;
  rowsChecked: number;
  drift: number;
  missing: number;
  invalid: number;
  different: number;
  finishedAt: string | null;
}

export interface StepMark {
  step: string;
  n: number;
  title: string;
  /** What the chart marker shows: "4 dual-read" (a rollout step, named by its file), "#3 instance-kill" (a sandbox action). */
  label: string;
  /** Seconds since the demo started. */
  at: number;
}

export interface Sample {
  /** The second (since the demo started) whose requests this sample counts. */
  second: number;
  step: string;
  row: SampleRow;
  instances: InstanceView[];
  anomalies: Record<AnomalyKind, number>;
  readNewPercent: number | null;
  flagSetVersion: number | null;
  backfill: BackfillView | null;
  drift: DriftView | null;
  db: DatabaseLoad & { rowLockWaitsPerSecond: number | null };
  /** Anomalies found since the previous sample, at the moment each happened (seconds since the start). */
  newAnomalies: { at: number; kind: AnomalyKind }[];
  /** How long the live checker took this second (ms). */
  checkerMs: number;
  /** What could not be sampled this second (the demo goes on). */
  errors: string[];
}

export interface SamplerOptions {
  recorder: HistoryRecorder;
  db: Database;
  /** A read replica of db: its lag is sampled too. */
  replica?: Database | null;
  registry: InstanceRegistry;
  consistency?: 'session' | undefined;
  /** The live checker keeps about this many recent operations per user (the sandbox); default all. */
  keepPerUser?: number;
  onSample?: (sample: Sample) => void;
}

const HEALTH_TIMEOUT_MS = 800;
/** How often the live checker looks at the operations answered since its last look. */
export const LOOK_EVERY_MS = 100;

export class RolloutSampler {
  readonly samples: Sample[] = [];
  readonly steps: StepMark[] = [];
  readonly t0: number;
  readonly series: RequestSeries;
  readonly checker: LiveChecker;
  private readonly answered: AnsweredOps;
  private readonly probe: () => Promise<DatabaseLoad>;
  private timer: NodeJS.Timeout | undefined;
  private lookTimer: NodeJS.Timeout | undefined;
  /** The live checker's time since the last sample (every look's). */
  private checkerMs = 0;
  private inFlight: Promise<void> | undefined;
  private lastRowLockWaits: { at: number; value: number } | null = null;
  private readonly anomaliesSent = new Set<string>();

  constructor(private readonly options: SamplerOptions) {
    const { recorder } = options;
    this.t0 = recorder.steps[0]?.at ?? recorder.now();
    this.series = new RequestSeries(this.t0);
    this.checker = new LiveChecker(recorder, options.consistency, options.keepPerUser);
    this.answered = new AnsweredOps(recorder);
    this.probe = databaseLoadProbe(options.db, options.replica ?? null);
  }

  secondsSinceStart(): number {
    return (this.options.recorder.now() - this.t0) / 1000;
  }

  start(): void {
    this.lookTimer = setInterval(() => this.look(), LOOK_EVERY_MS);
    this.timer = setInterval(() => {
      // A slow second (a busy database) skips a tick rather than piling samples up.
      this.inFlight ??= this.tick()
        .then(() => {})
        .catch(() => {})
        .finally(() => (this.inFlight = undefined));
    }, 1000);
  }

  markStep(n: number, step: string, title: string, label: string): StepMark {
    const mark = { step, n, title, label, at: Math.round(this.secondsSinceStart() * 10) / 10 };
    this.steps.push(mark);
    return mark;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.lookTimer);
    await this.inFlight;
  }

  /** After the load: judge the final read and the snapshots too, and count every operation (for the report). */
  finish(end: { final: FinalRead[]; snapshots: Snapshot[] }): TimedAnomaly[] {
    for (const op of this.answered.drain()) this.series.add(op);
    this.checker.finish(end);
    return this.checker.timeline();
  }

  async tick(): Promise<Sample> {
    const { recorder } = this.options;
    const second = Math.floor(this.secondsSinceStart()) - 1;
    for (const op of this.answered.drain()) this.series.add(op);
    // Seconds well past are summed up: a sandbox runs for a whole workshop.
    this.series.compact(second - 10);
    this.look();
    const checkerMs = this.checkerMs;
    this.checkerMs = 0;
    const errors: string[] = [];
    const guarded = async <T>(what: string, read: () => Promise<T>, fallback: T): Promise<T> => {
      try {
        return await read();
      } catch (err) {
        if (!isMissingTable(err)) errors.push(`${what}: ${(err as Error).message}`);
        return fallback;
      }
    };
    const [instances, flagSet, backfill, drift, load] = await Promise.all([
      guarded('instances', () => this.instances(), []),
      guarded('flags', () => readFlagSet(this.options.db), null),
      guarded('backfill', () => this.backfill(), null),
      guarded('drift', () => this.drift(), null),
      guarded('database load', () => this.probe(), { ...NO_DATABASE_LOAD }),
    ]);
    const figures = this.series.figures(second);
    const anomalies = this.checker.byKind();
    const rowLockWaitsPerSecond = this.rowLockWaitsPerSecond(load.rowLockWaits);
    const v2Reads = Object.values(figures.readSources).reduce((a, b) => a + b, 0);
    const share = (source: string) => (v2Reads === 0 ? null : Math.round((1000 * (figures.readSources[source] ?? 0)) / v2Reads) / 10);
    const row: SampleRow = {
      errors: figures.errors,
      anomalies: Object.values(anomalies).reduce((a, b) => a + b, 0),
      readNewPercent: flagSet ? Number(flagSet.values['read-new-percent']) : null,
      readsNew: share('new'),
      readsFallback: share('fallback'),
      threadsRunning: load.threadsRunning,
      rowLockWaits: rowLockWaitsPerSecond,
      replicaLag: load.replicaLagSeconds,
      replicaBehind: load.replicaBehindTransactions,
      backfillPercent: backfill ? backfill.percent : null,
      drift: drift ? drift.drift : null,
    };
    for (const kind of ANOMALY_KINDS) row[`anomalies.${kind}`] = anomalies[kind];
    for (const version of APP_VERSIONS) {
      row[`requests.${version}`] = figures.requests[version] ?? 0;
      row[`p99.${version}`] = figures.p99Ms[version] ?? null;
      row[`instances.${version}`] = instances.filter((i) => i.version === version).length;
    }
    const sample: Sample = {
      second,
      step: recorder.currentStep,
      row,
      instances,
      anomalies,
      readNewPercent: row.readNewPercent ?? null,
      flagSetVersion: flagSet?.version ?? null,
      backfill,
      drift,
      db: { ...load, rowLockWaitsPerSecond },
      newAnomalies: this.newAnomalies(),
      checkerMs: Math.round(checkerMs),
      errors,
    };
    this.samples.push(sample);
    this.options.onSample?.(sample);
    return sample;
  }

  private look(): void {
    this.checker.update();
    this.checkerMs += this.checker.lastMs;
  }

  private newAnomalies(): { at: number; kind: AnomalyKind }[] {
    const fresh = [];
    for (const anomaly of this.checker.timeline()) {
      const key = `${anomaly.kind} ${anomaly.key} ${anomaly.at}`;
      if (this.anomaliesSent.has(key)) continue;
      this.anomaliesSent.add(key);
      fresh.push({ at: Math.round((anomaly.at - this.t0) / 100) / 10, kind: anomaly.kind });
    }
    return fresh;
  }

  private rowLockWaitsPerSecond(counter: number | null): number | null {
    if (counter === null) return null;
    const now = performance.now();
    const previous = this.lastRowLockWaits;
    this.lastRowLockWaits = { at: now, value: counter };
    if (!previous) return null;
    return Math.round(((counter - previous.value) * 1000) / Math.max(1, now - previous.at));
  }

  private async instances(): Promise<InstanceView[]> {
    const { alive } = await this.options.registry.list({ recent: 0 });
    return Promise.all(
      alive.map(async (instance): Promise<InstanceView> => {
        const view = { instance: instance.instanceId, version: instance.appVersion, address: instance.address, flagSetVersion: instance.flagSetVersion, flags: null };
        try {
          const response = await fetch(`http://${instance.address}/healthz`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
          const body = (await response.json()) as { status?: string; flags?: Record<string, unknown>; flagSetVersion?: number | null };
          return { ...view, health: body.status ?? `HTTP ${response.status}`, flags: body.flags ?? null, flagSetVersion: body.flagSetVersion ?? view.flagSetVersion };
        } catch {
          return { ...view, health: 'unreachable' };
        }
      }),
    );
  }

  private async backfill(): Promise<BackfillView | null> {
    const [run] = await this.options.db.select<{
      id: number | string;
      status: string;
      range_start: number | string;
      range_end: number | string;
      next_id: number | string;
      rows_changed: number | string;
      started_at: string | Date;
      updated_at: string | Date;
    }>('SELECT id, status, range_start, range_end, next_id, rows_changed, started_at, updated_at FROM backfill_runs ORDER BY id DESC LIMIT 1');
    if (!run) return null;
    const keysTotal = Math.max(0, Number(run.range_end) - Number(run.range_start) + 1);
    const keysDone = run.status === 'done' ? keysTotal : Math.min(keysTotal, Math.max(0, Number(run.next_id) - Number(run.range_start)));
    const seconds = (parseDbTime(dbTime(run.updated_at)) - parseDbTime(dbTime(run.started_at))) / 1000;
    const keysPerSecond = seconds > 0 ? Math.round(keysDone / seconds) : null;
    return {
      run: Number(run.id),
      status: run.status,
      keysDone,
      keysTotal,
      percent: keysTotal === 0 ? 100 : Math.round((1000 * keysDone) / keysTotal) / 10,
      rowsChanged: Number(run.rows_changed),
      keysPerSecond,
      etaSeconds: run.status === 'done' ? 0 : keysPerSecond ? Math.round((keysTotal - keysDone) / keysPerSecond) : null,
    };
  }

  private async drift(): Promise<DriftView | null> {
    const [latest] = await verifyResults(this.options.db).finished({ limit: 1 });
    if (!latest) return null;
    const { id, mode, rowsChecked, drift, missing, invalid, different, finishedAt } = latest;
    return { verify: id, mode, rowsChecked, drift, missing, invalid, different, finishedAt };
  }
}
