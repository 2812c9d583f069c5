// What `make demo` shows besides its terminal: the sampler (sampler.ts) feeding the live dashboard
// (load/observe/dashboard/) once a second, step boundaries as they happen, and report.html at the end
// (load/observe/report/). demo.ts calls it in four places: start, each step, stop (before the database closes), finish.
import path from 'node:path';
import { connectDatabase } from '../../shared/db/connection.ts';
import type { Database } from '../../shared/db/connection.ts';
import type { InstanceRegistry } from '../../shared/registry/instances.ts';
import type { Snapshot, Verdict } from '../proof/checker/index.ts';
import { startDashboard } from './dashboard/server.ts';
import type { DashboardOptions } from './dashboard/server.ts';
import type { FinalRead, HistoryRecorder } from '../proof/history.ts';
import { writeReport } from './report/report.ts';
import type { ReportStep } from './report/report.ts';
import { RolloutSampler } from './sampler.ts';

export interface ObservationOptions {
  resultsDir: string;
  recorder: HistoryRecorder;
  db: Database;
  registry: InstanceRegistry;
  /** DB=mysql-replica: the replica's lag is sampled too. */
  replicaUrl?: string | undefined;
  /** With a replica, reads promise session consistency (the checker's consistency option). */
  consistency?: 'session' | undefined;
  meta: { scenario: string; database: string; stepSeconds: number };
  /** DASHBOARD_PORT: 0 = any free port. */
  port?: number;
  /** The sandbox (make workshop): its control endpoints, and what it adds to the dashboard's "init" event. */
  api?: DashboardOptions['api'];
  extraSnapshot?: () => Record<string, unknown>;
  /** The sandbox: the live checker keeps about this many recent operations per user (RolloutSampler). */
  keepPerUser?: number;
}

export interface DemoOutcome {
  verdict: Verdict;
  steps: ReportStep[];
  passed: boolean;
  failure: string | null;
  final: FinalRead[];
  snapshots: Snapshot[];
}

export const DEFAULT_DASHBOARD_PORT = 8070;

/** DASHBOARD_PORT, checked like the demo's other variables: a bad value is one line naming it, exit 2. */
export function dashboardPort(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_DASHBOARD_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`demo: DASHBOARD_PORT must be a port number from 0 to 65535, 0 for any free port (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return port;
}

export async function startObservation(options: ObservationOptions) {
  const { resultsDir, recorder, db, registry, meta } = options;
  const replica = options.replicaUrl ? await connectDatabase(options.replicaUrl, { poolMax: 1 }) : null;
  let done: Record<string, unknown> | null = null;
  const sampler = new RolloutSampler({ recorder, db, replica, registry, consistency: options.consistency, ...(options.keepPerUser ? { keepPerUser: options.keepPerUser } : {}), onSample: (sample) => dashboard.publish('sample', sample) });
  const dashboard = await startDashboard({
    port: options.port ?? DEFAULT_DASHBOARD_PORT,
    snapshot: () => ({ meta, samples: sampler.samples, steps: sampler.steps, done, ...options.extraSnapshot?.() }),
    ...(options.api ? { api: options.api } : {}),
  });
  sampler.start();
  let stopped = false;

  return {
    url: dashboard.url,
    /** Sends an event to every connected browser (the sandbox's actions and anomalies). */
    publish: (event: string, data: unknown) => dashboard.publish(event, data),
    /** Every anomaly the live checker has found so far, oldest first (on the history's clock). */
    anomalies: () => sampler.checker.timeline(),
    /** Seconds since the run started, on the history's clock, as the charts count them. */
    secondsAt: (at: number) => Math.round((at - sampler.t0) / 100) / 10,
    /** A boundary on the charts: `label` is what its marker shows. */
    step(n: number, step: string, title: string, label: string): void {
      dashboard.publish('step', sampler.markStep(n, step, title, label));
    },
    /**
     * How many anomalies the history holds so far: the live checker's look (a window per touched user, so it does
     * not stall the load it judges the way check() over the whole history would); 0 exactly when there are none.
     */
    anomaliesSoFar(): number {
      sampler.checker.update();
      return Object.values(sampler.checker.byKind()).reduce((a, b) => a + b, 0);
    },
    /** Before the database connection closes: no more samples. */
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await sampler.stop();
      await replica?.close();
    },
    /** Writes report.html, tells the dashboard the verdict, and closes it. Returns the report's path. */
    async finish(outcome: DemoOutcome): Promise<string> {
      await this.stop();
      const timeline = sampler.finish({ final: outcome.final, snapshots: outcome.snapshots });
      const file = writeReport({
        file: path.join(resultsDir, 'report.html'),
        ...meta,
        passed: outcome.passed,
        failure: outcome.failure,
        verdict: outcome.verdict,
        steps: outcome.steps,
        sampler,
        timeline,
        files: { 'every request (history)': 'history.jsonl', 'verdict (JSON)': 'demo-summary.json', 'instance logs (pino JSON, one line per request)': 'logs/' },
      });
      done = { passed: outcome.passed, anomalies: outcome.verdict.anomalies, failedRequests: outcome.verdict.failedRequests, failure: outcome.failure, report: file };
      dashboard.publish('done', done);
      await dashboard.close();
      return file;
    },
  };
}

export type Observation = Awaited<ReturnType<typeof startObservation>>;
