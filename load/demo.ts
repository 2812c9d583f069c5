// make demo: the whole rollout, for real, under continuous load through a round-robin balancer, judged by the
// consistency checker. Each step prints its precondition, what it does, and the evidence that it held; the
// numbers are the README's canonical rollout table. The exit code is the verdict: 0 only with no anomaly and
// failed requests within the scenario's budget (0 for the rollout).
//
//   DB=sqlite|mysql (MYSQL_URL)|mysql-replica (its own primary + replica)   SCENARIO=rollout|<anti-pattern>   DEMO_STEP_SECONDS=4   RESULTS_DIR=results
//   PAUSE=1 (wait for Enter before each step)   BALANCER=nginx|node   DASHBOARD_PORT=8070 (0: any free port)
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline/promises';
import { ANTI_PATTERNS } from '../shared/config.ts';
import { connectDatabase } from '../shared/db/connection.ts';
import { usersRepository } from '../shared/db/users-repository.ts';
import { writeFlags } from '../shared/flags/store.ts';
import { migrateUp } from '../shared/migrations/runner.ts';
import { instanceRegistry } from '../shared/registry/instances.ts';
import { startBalancer } from './balancer/index.ts';
import type { Balancer } from './balancer/index.ts';
import { check } from './checker/index.ts';
import type { Snapshot } from './checker/index.ts';
import { formatVerdict } from './checker/format.ts';
import { freshDatabase } from './demo/database.ts';
import { Fleet } from './demo/fleet.ts';
import { dashboardPort, startObservation } from './demo/observe.ts';
import { replicaCaughtUp, withReplicaLag } from './demo/replica-lag.ts';
import { snapshotUsers } from './demo/snapshots.ts';
import { stepStats } from './demo/stats.ts';
import type { StepStats } from './demo/stats.ts';
import { httpJson, runTool } from './demo/tools.ts';
import { formatProgress, readFinalValues, runLoad } from './generator.ts';
import { HistoryRecorder } from './history.ts';
import { waitFor } from './instances.ts';

const RESULTS_DIR = path.resolve(process.env.RESULTS_DIR || 'results');
const STEP_SECONDS = Number(process.env.DEMO_STEP_SECONDS || 4);
const SCENARIO = process.env.SCENARIO || 'rollout';
const DB = process.env.DB || 'sqlite';
const SEED_USERS = Number(process.env.DEMO_SEED_USERS || 200);
const PAUSE = process.env.PAUSE === '1';
const DASHBOARD_PORT = dashboardPort(process.env.DASHBOARD_PORT);

if (SCENARIO !== 'rollout' && !(ANTI_PATTERNS as readonly string[]).includes(SCENARIO)) {
  console.error(`demo: SCENARIO must be rollout or one of ${ANTI_PATTERNS.join(', ')} (got ${JSON.stringify(SCENARIO)})`);
  process.exit(2);
}
if (!Number.isFinite(STEP_SECONDS) || STEP_SECONDS < 1 || STEP_SECONDS > 120) {
  console.error(`demo: DEMO_STEP_SECONDS must be a number from 1 to 120 (got ${JSON.stringify(process.env.DEMO_STEP_SECONDS)})`);
  process.exit(2);
}
if (SCENARIO === 'replica-reads' && DB !== 'mysql-replica') {
  console.error('demo: SCENARIO=replica-reads needs DB=mysql-replica (a replica to read from)');
  process.exit(2);
}
const antiPattern = SCENARIO === 'rollout' ? null : SCENARIO;
fs.mkdirSync(RESULTS_DIR, { recursive: true });

const database = await freshDatabase(DB, RESULTS_DIR, process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/');
const env = { DATABASE_URL: database.url, LOG_LEVEL: 'warn', ...(database.replicaUrl ? { DATABASE_REPLICA_URL: database.replicaUrl } : {}) };
// With a replica, a read promises read-your-writes and monotonic reads per session (docs/read-replicas.md).
const consistency = database.replicaUrl ? ('session' as const) : undefined;
const db = await connectDatabase(database.url, { poolMax: 4 });
const registry = instanceRegistry(db);
const recorder = new HistoryRecorder({ file: path.join(RESULTS_DIR, 'history.jsonl'), step: '0-base' });
const fleet = await Fleet.allocate(
  [
    { name: 'v1-a', version: 'v1' },
    { name: 'v1-b', version: 'v1' },
    { name: 'v2-a', version: 'v2' },
    { name: 'v2-b', version: 'v2' },
  ],
  // Instances log one JSON line per request, to $RESULTS_DIR/logs/<instance>.log (not this terminal).
  { ...env, LOG_LEVEL: 'info' },
  { logDir: path.join(RESULTS_DIR, 'logs') },
);
const v2Env: Record<string, string> = antiPattern ? { ANTI_PATTERN: antiPattern } : {};
const startV2 = (name: string) => fleet.start(name, v2Env);
// The live dashboard (sampled once a second) and, at the end, report.html.
const observation = await startObservation({
  resultsDir: RESULTS_DIR,
  recorder,
  db,
  registry,
  replicaUrl: database.replicaUrl,
  consistency,
  meta: { scenario: SCENARIO, database: database.describe, stepSeconds: STEP_SECONDS },
  port: DASHBOARD_PORT,
});
console.log(`dashboard: ${observation.url} (live; report.html at the end)`);

const snapshots: Snapshot[] = [];
const windows: { step: string; title: string; startedAt: number; endedAt: number; instances: string }[] = [];
let v1MayBeAlive = true;
let balancer: Balancer | undefined;
let stopLoad: AbortController | undefined;
let loadDone: Promise<unknown> | undefined;
let stepStartedAt = recorder.now();
let failure: string | null = null;

async function instancesByVersion(): Promise<string> {
  const { alive } = await registry.list();
  const count = (v: string) => alive.filter((i) => i.appVersion === v).length;
  return `v1:${count('v1')} v2:${count('v2')}`;
}

async function endStep(title: string) {
  const step = recorder.currentStep;
  const rows = await snapshotUsers(db);
  // A snapshot is a read: anything it shows was invoked before it completed, so stamp it with its end.
  const endedAt = recorder.now();
  snapshots.push({ step, takenAt: endedAt, v1MayBeAlive, rows });
  windows.push({ step, title, startedAt: stepStartedAt, endedAt, instances: await instancesByVersion() });
}

// PAUSE=1: one line reader for the whole run. A new interface per step would drop the lines a pipe had
// already delivered (a trainer's script, a test); at end of input the demo runs on without pausing.
let pauseLines: AsyncIterator<string> | undefined;
let pauseInputEnded = false;
async function pauseBefore(n: number, title: string) {
  if (pauseInputEnded) return;
  pauseLines ??= readline.createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();
  process.stdout.write(`\n[PAUSE] next: step ${n} ${title}. Press Enter to run it.\n`);
  if ((await pauseLines.next()).done) {
    pauseInputEnded = true;
    console.log('[PAUSE] end of input: running the remaining steps without pausing');
  }
}

async function step(n: number, name: string, title: string, precondition: string, run: () => Promise<void>) {
  if (PAUSE) await pauseBefore(n, title);
  recorder.currentStep = `${n}-${name}`;
  stepStartedAt = recorder.now();
  observation.step(n, `${n}-${name}`, title);
  console.log(`\n== step ${n}: ${title}`);
  console.log(`   precondition: ${precondition}`);
  await run();
  await endStep(title);
}

const evidence = (line: string) => console.log(`   evidence: ${line}`);
const act = (line: string) => console.log(`   ${line}`);
const dwell = (seconds = STEP_SECONDS) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));
function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}
async function tool(script: string, ...args: string[]) {
  const result = await runTool(script, args, env);
  must(result.code === 0, `npm run ${script} ${args.join(' ')} exited ${result.code}`);
  return result;
}
async function servedBy(instance: string, deadlineMs = 10_000) {
  const since = recorder.ops.length;
  await waitFor(() => (recorder.ops.slice(since).some((op) => op.instance === instance && op.outcome === 'ok') ? true : undefined), {
    timeoutMs: deadlineMs,
    what: `${instance} to serve load through the balancer`,
  });
}

console.log(`demo: scenario ${SCENARIO}, ${database.describe}, ${STEP_SECONDS} s per step, results in ${path.relative(process.cwd(), RESULTS_DIR) || '.'}`);
try {
  await step(0, 'base', 'base schema, seeded users, two v1 behind the balancer, load starts', 'a fresh, empty database', async () => {
    await migrateUp(db, { to: '001-base', log: act });
    const users = usersRepository(db);
    const seeded = [];
    for (let i = 1; i <= SEED_USERS; i++) seeded.push(await users.insertOld({ name: `seed${i}`, email: `seed${i}@example.test` }));
    recorder.recordInitial(seeded.map((u) => ({ userId: u.id, value: { name: u.name, email: u.email } })));
    await Promise.all([fleet.start('v1-a'), fleet.start('v1-b')]);
    balancer = await startBalancer({ upstreams: fleet.upstreams, dir: path.join(RESULTS_DIR, 'balancer') });
    act(`balancer (${balancer.kind}) at ${balancer.url} over slots ${fleet.slots.map((s) => `${s.name}=${s.port}`).join(' ')}`);
    stopLoad = new AbortController();
    let lastProgress = 0;
    loadDone = runLoad({
      url: balancer.url,
      recorder,
      connections: 8,
      durationSeconds: 3600,
      signal: stopLoad.signal,
      existingUsers: seeded.map((u) => u.id),
      onProgress: (progress) => {
        if (process.stdout.isTTY && Date.now() - lastProgress > 1000) {
          lastProgress = Date.now();
          process.stdout.write(`\r   load: ${formatProgress(progress)}   `);
        }
      },
    });
    await dwell();
    if (process.stdout.isTTY) process.stdout.write('\n');
    evidence(`${SEED_USERS} users seeded; registry: ${await instancesByVersion()}; ${recorder.ops.length} requests so far`);
  });

  await step(1, 'expand', 'expand: add profile_data online (and the rollout\'s support tables) while v1 serves', '001-base applied, v1 serving', async () => {
    const applied = await migrateUp(db, { to: '005-rollout-log', log: act });
    await dwell(Math.min(2, STEP_SECONDS));
    evidence(`${applied.map((m) => `${m.name} ${m.ms} ms`).join(', ')}; v1 kept serving (errors this step are counted below)`);
  });

  await step(2, 'dual-write', 'dual-write: start a v2 beside the v1s (both versions serve)', '002-expand applied', async () => {
    await startV2('v2-a');
    await servedBy('v2-a');
    await dwell();
    evidence(`registry: ${await instancesByVersion()}; v2-a answered through the balancer`);
  });

  await step(3, 'cross-version', 'cross-version check: a write through each version is read through the other', 'v1 and v2 both serving', async () => {
    const v1 = fleet.slot('v1-a').instance!.url;
    const v2 = fleet.slot('v2-a').instance!.url;
    try {
      const viaV2 = await httpJson('POST', `${v2}/users`, { name: 'Check via v2', email: 'check-v2@example.test' });
      const readByV1 = await httpJson('GET', `${v1}/users/${viaV2.json.id}`);
      const viaV1 = await httpJson('PUT', `${v1}/users/${viaV2.json.id}`, { name: 'Check via v1', email: 'check-v1@example.test' });
      const readByV2 = await httpJson('GET', `${v2}/users/${viaV2.json.id}`);
      evidence(`v2 wrote ${JSON.stringify(viaV2.json.name)}, v1 read ${JSON.stringify(readByV1.json.name)}`);
      evidence(`v1 wrote ${JSON.stringify(viaV1.json.name)}, v2 read ${JSON.stringify(readByV2.json.name)} (X-Read-Source: ${readByV2.headers.get('x-read-source')})`);
      must(readByV1.json.name === 'Check via v2' && readByV2.json.name === 'Check via v1', 'a write was not visible through the other version');
    } catch (err) {
      // An anti-pattern is expected to break this; the checker's verdict below says how.
      if (!antiPattern) throw err;
      evidence(`the check failed, as ${antiPattern} is expected to make it: ${(err as Error).message}`);
    }
    await dwell(Math.min(2, STEP_SECONDS));
  });

  await step(4, 'shadow', 'shadow: v2 compares both columns on every read and counts mismatches', 'v2 serving', async () => {
    await tool('flags', 'set', 'shadow-compare', 'true');
    if (database.pair) await withReplicaLag(database.pair, Math.max(3, STEP_SECONDS), act);
    else await dwell();
    const metrics = await fetch(`${fleet.slot('v2-a').instance!.url}/metrics`)
      .then((r) => r.text())
      .catch((err: Error) => `unreachable: ${err.message}`);
    const mismatches = [...metrics.matchAll(/^shadow_mismatches_total\{reason="(\w+)"[^}]*\} (\d+)/gm)].map((m) => `${m[1]}=${m[2]}`);
    evidence(`v2-a shadow mismatches: ${mismatches.join(' ') || 'none'} (missing = not yet backfilled; different = a v1 write after v2's)`);
  });

  await step(5, 'retire-v1', 'retire v1: rolling replacement, drain each v1 with SIGTERM', 'v2 serving beside v1', async () => {
    const first = await fleet.stop('v1-a');
    act(`v1-a drained and exited ${first.code} in ${first.ms} ms`);
    await startV2('v2-b');
    await servedBy('v2-b');
    const second = await fleet.stop('v1-b');
    act(`v1-b drained and exited ${second.code} in ${second.ms} ms`);
    v1MayBeAlive = false;
    const byVersion = await instancesByVersion();
    evidence(`registry: ${byVersion}; the last v1 is gone`);
    await dwell(Math.min(2, STEP_SECONDS));
  });

  if (!antiPattern) {
    await step(6, 'backfill', 'backfill: fill profile_data for old rows, in batches, under load', 'only v2 writes (every new write is dual-written)', async () => {
      const result = await tool('backfill');
      evidence(`backfill finished in ${result.ms} ms`);
    });

    await step(7, 'verify', 'verify: count drift between old and new columns', 'backfill finished', async () => {
      await tool('verify');
      evidence('verify exited 0: no drift');
      await dwell(Math.min(2, STEP_SECONDS));
    });

    await step(8, 'read-shift', 'read shift 1% -> 10% -> 50% -> 100%, then a rollback drill', 'clean verify after the last v1 stopped', async () => {
      for (const percent of [1, 10, 50, 100]) {
        await tool('rollout', 'advance', '--percent', String(percent));
        await dwell(Math.max(1, STEP_SECONDS / 4));
        const anomaliesSoFar = check({ ops: recorder.ops, initial: recorder.initial, consistency }).anomalies;
        evidence(`read-new-percent=${percent}: anomalies so far ${anomaliesSoFar}`);
        must(anomaliesSoFar === 0, `anomalies at read-new-percent=${percent}`);
      }
      act('rollback drill: read-new-percent -> 0');
      // Written in-process, so the clock measures propagation, not a command's start-up.
      const version = await writeFlags(db, { 'read-new-percent': 0 }, 'demo rollback drill');
      const started = performance.now();
      act(`flag set version ${version}: read-new-percent=0`);
      const followed = await Promise.all(
        fleet.running().map(async (slot) => {
          await waitFor(async () => ((await httpJson('GET', `${slot.instance!.url}/healthz`)).json.flags as Record<string, number>)['read-new-percent'] === 0 || undefined, {
            timeoutMs: 5000,
            what: `${slot.name} to follow the rollback`,
          });
          return `${slot.name} ${Math.round(performance.now() - started)} ms`;
        }),
      );
      const slowest = Math.round(performance.now() - started);
      evidence(`every instance follows the rollback (from /healthz): ${followed.join(', ')}`);
      must(slowest <= 1000, `an instance took ${slowest} ms to follow the rollback`);
      await tool('rollout', 'advance', '--percent', '100');
      await dwell(Math.max(1, STEP_SECONDS / 2));
    });

    await step(9, 'live', 'live: reads trust profile_data (no v1 left, verify clean after the last v1 stopped)', 'reads at 100%, no v1 alive, clean verify', async () => {
      await tool('verify');
      await tool('rollout', 'advance');
      await dwell();
      evidence('every alive instance loaded the live flags');
    });

    await step(10, 'new-only', 'new-only: remove dual-write (relax the old columns online first)', 'live', async () => {
      await tool('db-migrate', 'up');
      await tool('rollout', 'advance');
      await dwell();
      evidence('v2 writes only profile_data');
    });

    await step(11, 'contract', 'contract: drop the old columns', 'new-only, no v1 alive, clean verify on record', async () => {
      await tool('db-contract');
      await dwell(Math.min(2, STEP_SECONDS));
      evidence('name and email are gone; v2 serves from profile_data');
    });
  }
} catch (err) {
  failure = (err as Error).message;
  console.error(`\ndemo: step ${recorder.currentStep} failed: ${failure}`);
}

// Stop the load (in-flight requests are answered), read every row's final value, judge.
stopLoad?.abort();
await loadDone?.catch(() => {});
recorder.currentStep = 'final';
const finalRows = await snapshotUsers(db).catch(() => []);
const fromNew = finalRows.length > 0 && finalRows.every((r) => r.name === null);
if (database.pair) await replicaCaughtUp(database.pair).catch((err: Error) => (failure ??= err.message));
recorder.recordFinal(
  balancer ? await readFinalValues(balancer.url, recorder.userIds()).catch(() => []) : [],
);
await recorder.close();
const verdict = check({ ops: recorder.ops, initial: recorder.initial, final: recorder.final, snapshots, consistency });
await observation.stop();
await fleet.stopAll();
await balancer?.stop();
await db.close();
await database.drop();

const budget = 0;
const passed = failure === null && verdict.anomalies === 0 && verdict.failedRequests <= budget;
const summary = {
  scenario: SCENARIO,
  database: database.kind,
  // Since this process started (start-up included): what `make bench` reports as the demo's wall time.
  wallSeconds: Math.round(process.uptime()),
  passed,
  failure,
  anomalies: verdict.anomalies,
  byKind: verdict.byKind,
  drift: verdict.drift,
  acknowledgedWrites: verdict.acknowledgedWrites,
  reads: verdict.reads,
  unknownOutcomes: verdict.unknownOutcomes,
  failedRequests: verdict.failedRequests,
  failedRequestBudget: budget,
  retries: verdict.retries,
  versionsSeen: verdict.versionsSeen,
  finalValuesFrom: fromNew ? 'profile_data' : 'the balancer',
  steps: windows.map((w): StepStats & { title: string; instances: string; anomalies: number } => ({
    ...stepStats(w.step, recorder.ops, w.startedAt, w.endedAt),
    title: w.title,
    instances: w.instances,
    anomalies: verdict.perStep[w.step]?.anomalies ?? 0,
  })),
  examples: verdict.examples,
  ...(verdict.crossSession ? { consistency: 'session', crossSession: { reads: verdict.crossSession.reads, byKind: verdict.crossSession.byKind } } : {}),
};
fs.writeFileSync(path.join(RESULTS_DIR, 'demo-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
const reportFile = await observation.finish({ verdict, steps: summary.steps, passed, failure, final: recorder.final, snapshots });

console.log(`\n${'='.repeat(100)}\nRollout summary (${SCENARIO}, ${database.kind})`);
console.log(`${'step'.padEnd(16)}${'req/s'.padStart(7)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'errors'.padStart(8)}${'retries'.padStart(8)}${'anomalies'.padStart(10)}  instances   served by`);
for (const s of summary.steps) {
  const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(1));
  console.log(
    `${s.step.padEnd(16)}${String(s.perSecond).padStart(7)}${fmt(s.p50).padStart(8)}${fmt(s.p99).padStart(8)}${String(s.errors).padStart(8)}${String(s.retries).padStart(8)}${String(s.anomalies).padStart(10)}  ${s.instances.padEnd(11)} ${Object.entries(s.byVersion).map(([v, n]) => `${v}=${n}`).join(' ')}`,
  );
}
console.log(formatVerdict(verdict));
console.log(`history: ${path.relative(process.cwd(), recorder.file ?? '') || '-'}   summary: ${path.relative(process.cwd(), path.join(RESULTS_DIR, 'demo-summary.json'))}`);
console.log(`report: ${path.relative(process.cwd(), reportFile)}   instance logs: ${path.relative(process.cwd(), path.join(RESULTS_DIR, 'logs'))}/`);
console.log(
  passed
    ? `PASSED: ${verdict.acknowledgedWrites} acknowledged writes, ${verdict.reads} reads, 0 anomalies, ${verdict.failedRequests} failed requests.`
    : `FAILED: ${failure ?? ''}${failure ? '; ' : ''}${verdict.anomalies} anomalies, ${verdict.failedRequests} failed requests (budget ${budget}).`,
);
process.exit(passed ? 0 : 1);
