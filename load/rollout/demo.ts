// make demo: the whole rollout, for real, under continuous load through a round-robin balancer, judged by the
// consistency checker. The steps are the files in load/rollout/steps/ (the README's canonical rollout table), run
// in their order: each prints its precondition, the operator's command and the evidence to expect (from its
// file), then what it does and the evidence it found. The exit code is the verdict: 0 only with no anomaly and
// failed requests within the scenario's budget (0 for the rollout).
//
//   DB=sqlite|mysql (MYSQL_URL)|mysql-replica (its own primary + replica)   SCENARIO=rollout|<anti-pattern>   DEMO_STEP_SECONDS=4   RESULTS_DIR=results
//   PAUSE=1 (wait for Enter before each step)   BALANCER=nginx|node   DASHBOARD_PORT=8070 (0: any free port)   DEMO_RATE=<requests/s>
//   DEMO_FAULT=final-read (tests only: the final read goes to a closed port and fails, to prove that a run whose
//   judgment did not run in full fails, naming the part: load/run/judgment.ts)
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import readline from 'node:readline/promises';
import { ANTI_PATTERNS } from '../../shared/config.ts';
import { connectDatabase } from '../../shared/db/connection.ts';
import { writeFlags } from '../../shared/flags/store.ts';
import { migrateUp } from '../../shared/migrations/runner.ts';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { startBalancer } from '../infra/balancer/index.ts';
import type { Balancer } from '../infra/balancer/index.ts';
import type { Snapshot } from '../proof/checker/index.ts';
import { formatVerdict } from '../proof/checker/format.ts';
import { instanceWarnings } from '../run/instance-logs.ts';
import { DB_KINDS, dbKindMessage, freshDatabase } from '../run/database.ts';
import { Fleet } from '../run/fleet.ts';
import { dashboardPort, startObservation } from '../observe/observation.ts';
import { replicaCaughtUp, withReplicaLag } from '../run/replica-lag.ts';
import { seedUsers } from '../run/seed.ts';
import { snapshotUsers } from '../run/table-snapshots.ts';
import { stepStats } from '../run/step-stats.ts';
import type { StepStats } from '../run/step-stats.ts';
import { externalRequest, httpJson, runTool } from '../run/operator.ts';
import { formatProgress, runLoad } from '../proof/generator.ts';
import { createdKey, HistoryRecorder } from '../proof/history.ts';
import { haltIfInterrupted, incompleteSummary, installInterruptHandling, interrupted, onInterruptWriteResults, SIGNAL_GRACE_MS } from '../infra/cleanup.ts';
import { waitFor } from '../infra/instance-process.ts';
import { conclude, judgeRun } from '../run/judgment.ts';
import { markerLabel, rolloutStep, stepLabel } from './steps/index.ts';
import type { RolloutStep } from './steps/index.ts';
import { appliedMigrationNames } from '../../shared/migrations/applied.ts';
import { applySyncMode, parseRunnableSyncMode, ROLLOUT_LOG_MIGRATION } from '../../shared/rollout/sync.ts';
import type { SyncMode } from '../../shared/sync/mode.ts';
import { columns, mapping } from '../../shared/schema-mapping.ts';
import { EXPAND_PHASE_END } from '../../shared/rollout/state.ts';
import { appendDemoRun } from './demo-runs.ts';

const RESULTS_DIR = path.resolve(process.env.RESULTS_DIR || 'results');
/** Per 20 operations: 1 create, 5 PUTs, 2 PATCHes, 1 DELETE in 4 (a row is deleted once), 2 lookups by the moved field, the rest reads. */
const DEMO_MIX = { create: 1, write: 5, patch: 2, delete: 0.25, lookup: 2, read: 9.75 };
const STEP_SECONDS = Number(process.env.DEMO_STEP_SECONDS || 4);
const SCENARIO = process.env.SCENARIO || 'rollout';
const DB = process.env.DB || 'sqlite';
if (!(DB_KINDS as readonly string[]).includes(DB)) {
  console.error(`demo: ${dbKindMessage(DB)}`);
  process.exit(2);
}
const SEED_USERS = Number(process.env.DEMO_SEED_USERS || 200);
if (!Number.isInteger(SEED_USERS) || SEED_USERS < 1 || SEED_USERS > 1_000_000) {
  console.error(`demo: DEMO_SEED_USERS must be a whole number from 1 to 1000000 (got ${JSON.stringify(process.env.DEMO_SEED_USERS)})`);
  process.exit(2);
}
// The load's pace: as fast as the answers come by default (8 connections, one operation at a time each), or
// DEMO_RATE requests per second over them. The load sets how much CPU a demo takes: the tests' short demos cap it,
// so that two of them beside the rest of make test do not starve each other on a 2-core machine.
const RATE = process.env.DEMO_RATE ? Number(process.env.DEMO_RATE) : undefined;
if (RATE !== undefined && !(Number.isInteger(RATE) && RATE >= 10 && RATE <= 100_000)) {
  console.error(`demo: DEMO_RATE must be a whole number of requests per second from 10 to 100000 (got ${JSON.stringify(process.env.DEMO_RATE)})`);
  process.exit(2);
}
const PAUSE = process.env.PAUSE === '1';
// SYNC=trigger: the sync triggers instead of app dual-write, recorded at step 1 as `SYNC=trigger npm run db:migrate`
// does (docs/sync-strategies.md); the later `npm run db:migrate` inherits it.
let SYNC: SyncMode | undefined;
try {
  SYNC = parseRunnableSyncMode(process.env.SYNC);
} catch (err) {
  console.error(`demo: ${(err as Error).message}`);
  process.exit(2);
}
const DASHBOARD_PORT = dashboardPort(process.env.DASHBOARD_PORT);
const FAULT = process.env.DEMO_FAULT || null;

if (SCENARIO !== 'rollout' && !(ANTI_PATTERNS as readonly string[]).includes(SCENARIO)) {
  console.error(`demo: SCENARIO must be rollout or one of ${ANTI_PATTERNS.join(', ')} (got ${JSON.stringify(SCENARIO)})`);
  process.exit(2);
}
if (!Number.isFinite(STEP_SECONDS) || STEP_SECONDS < 1 || STEP_SECONDS > 120) {
  console.error(`demo: DEMO_STEP_SECONDS must be a number from 1 to 120 (got ${JSON.stringify(process.env.DEMO_STEP_SECONDS)})`);
  process.exit(2);
}
// one-way-trigger is wrong in the sync triggers' install, which only SYNC=trigger makes (under app nothing copies down).
if (SCENARIO === 'one-way-trigger' && SYNC !== 'trigger') {
  console.error(`demo: SCENARIO=one-way-trigger needs SYNC=trigger (it installs the sync triggers one way only; got SYNC=${SYNC ?? 'unset, so app'})`);
  process.exit(2);
}
if (SCENARIO === 'replica-reads' && DB !== 'mysql-replica') {
  console.error('demo: SCENARIO=replica-reads needs DB=mysql-replica (a replica to read from)');
  process.exit(2);
}
if (FAULT !== null && FAULT !== 'final-read') {
  console.error(`demo: DEMO_FAULT must be final-read or unset (got ${JSON.stringify(FAULT)})`);
  process.exit(2);
}
const antiPattern = SCENARIO === 'rollout' ? null : SCENARIO;
/**
 * one-way-trigger: v2 is right and the sync install is wrong (shared/sync/triggers.ts): every command that installs
 * the triggers (this process's migrations, db:migrate, rollout) creates "up" only. Its damage shows only once v2
 * writes profile_data alone (new-only) while the last v1 still serves, so this scenario runs the whole rollout.
 */
const oneWayTrigger = antiPattern === 'one-way-trigger';
const runsWholeRollout = !antiPattern || oneWayTrigger;
fs.mkdirSync(RESULTS_DIR, { recursive: true });
// Ctrl-C, SIGTERM, SIGHUP: everything started below is stopped, the database dropped (load/infra/cleanup.ts).
installInterruptHandling({ tool: 'demo', resultsDir: RESULTS_DIR });

const database = await freshDatabase(DB, RESULTS_DIR, process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/');
// Each part connects as its own account (DB=mysql; load/run/accounts.ts): the tools and the demo's own reads as
// cli, the migrations as the migrator, each version's instances as that version's account.
const env = { DATABASE_URL: database.urls.cli, LOG_LEVEL: 'warn', ...(database.replicaUrl ? { DATABASE_REPLICA_URL: database.replicaUrl } : {}) };
// With a replica, a read promises read-your-writes and monotonic reads per session (docs/read-replicas.md).
const consistency = database.replicaUrl ? ('session' as const) : undefined;
const db = await connectDatabase(database.urls.cli, { poolMax: 4 });
const migrator = await connectDatabase(database.urls.migrator, { poolMax: 1 });
/** Migrates with the migrator's account, then grants v1 its rights on the tables that now exist. */
async function migrateTo(to: string) {
  const applied = await migrateUp(migrator, { to, log: act });
  if ((await appliedMigrationNames(migrator)).includes(ROLLOUT_LOG_MIGRATION)) await applySyncMode(migrator, SYNC, act, { oneWay: oneWayTrigger });
  await database.grantExisting();
  return applied;
}
const registry = instanceRegistry(db);
const recorder = new HistoryRecorder({ fields: mapping.oldColumnNames, file: path.join(RESULTS_DIR, 'history.jsonl'), step: '0-base' });
let stopLoad: AbortController | undefined;
let loadDone: Promise<unknown> | undefined;
// Interrupted: the history so far stays, and the summary says the run was not judged.
onInterruptWriteResults(async (signal) => {
  const step = recorder.currentStep;
  const file = path.join(RESULTS_DIR, 'demo-summary.json');
  const summary = { scenario: SCENARIO, database: database.kind, ...incompleteSummary(signal, step), requestsRecorded: recorder.ops.length };
  fs.writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  stopLoad?.abort();
  await loadDone?.catch(() => {});
  await recorder.close();
  return `demo: ${path.relative(process.cwd(), file)} and history.jsonl hold the ${recorder.ops.length} requests recorded up to step ${step}`;
});
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
const v2Env: Record<string, string> = { DATABASE_URL: database.urls.v2, ...(antiPattern && !oneWayTrigger ? { ANTI_PATTERN: antiPattern } : {}) };
// v1's own account has rights on the rollout's tables only once the expand created them: MySQL grants table
// rights only on existing tables, and a table one has no rights on reads as "denied", not "missing", which v1
// (made to run on the base schema, before those tables exist) cannot take for "not yet". So, as a team does, the
// v1s start on the account they ran on before the rollout (here the CLI's: DML on the database, no DDL) and step 1
// moves them onto their own, with a rolling restart, once the grants exist.
const startV1 = (name: string, url = database.urls.v1) => fleet.start(name, { DATABASE_URL: url });
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
/** Every step that began: each must end with its snapshot, or the per-step snapshots did not all run. */
const stepsBegun: string[] = [];
const windows: { step: string; title: string; startedAt: number; endedAt: number; instances: string; clientLoop: ClientLoop }[] = [];
/**
 * The load, the live checker and the recorder run in this process, so its own stalls delay requests being sent and
 * answers being read, and show as latency. Its event-loop delay per step (beyond the 1 ms timer it is sampled by)
 * tells a p99 that moved because of the instances from one that moved because of the client.
 */
const LOOP_RESOLUTION_MS = 1;
const clientLoopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
clientLoopDelay.enable();
interface ClientLoop {
  p99Ms: number;
  maxMs: number;
}
function clientLoopOfStep(): ClientLoop {
  const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - LOOP_RESOLUTION_MS) * 10) / 10);
  return { p99Ms: ms(clientLoopDelay.percentile(99)), maxMs: ms(clientLoopDelay.max) };
}
let v1MayBeAlive = true;
/**
 * Under SYNC=trigger the last v1 keeps serving past step 5, through live and new-only (the triggers carry its
 * writes both ways), and is retired right before the contract: what the trigger strategy buys. The anti-pattern
 * runs end at step 5 and retire both there, but one-way-trigger's, which runs the whole rollout.
 */
const keepsLastV1 = SYNC === 'trigger' && runsWholeRollout;
/** Drains the last v1 (SIGTERM): from then on no snapshot may blame a row's old columns on a v1. */
async function retireLastV1(): Promise<void> {
  const last = await fleet.stop('v1-b');
  act(`v1-b drained and exited ${last.code} in ${last.ms} ms`);
  v1MayBeAlive = false;
}

/** A database snapshot for the checker. A snapshot is a read: anything it shows was invoked before it completed, so it is stamped with its end. */
async function takeSnapshot(step: string): Promise<number> {
  const rows = await snapshotUsers(db);
  const takenAt = recorder.now();
  snapshots.push({ step, takenAt, v1MayBeAlive, rows });
  return takenAt;
}

// An instance that exits on its own (a crash, a stage guard's exit 3) may leave a write torn between the columns.
// Look at the database now: by the end of the step a later write may have overwritten the evidence.
const exitSnapshots: Promise<void>[] = [];
// An anti-pattern run restarts a v2 that crashed, as an orchestrator restarts a crashed pod, up to this many times a
// slot: it crashes again, and each crash tears another write (new-first-crash). One torn row is weak evidence: at
// full pace another write overwrites it before the snapshot about half the time (CI found nothing once, 044a925).
const ANTI_PATTERN_RESTARTS = 5;
const restarts: Promise<unknown>[] = [];
const restartsBySlot = new Map<string, number>();
let judging = false;
fleet.onUnexpectedExit = (slot, exit) => {
  if (judging || interrupted()) return;
  const step = recorder.currentStep;
  console.log(`   ${slot.name} exited on its own (${exit.signal ?? `exit code ${exit.code}`}): database snapshot taken now`);
  exitSnapshots.push(
    takeSnapshot(step).then(
      () => {},
      (err: Error) => console.log(`   the snapshot after ${slot.name} exited failed: ${err.message}`),
    ),
  );
  const restarted = restartsBySlot.get(slot.name) ?? 0;
  if (antiPattern && slot.version === 'v2' && exit.signal !== null && restarted < ANTI_PATTERN_RESTARTS) {
    restartsBySlot.set(slot.name, restarted + 1);
    restarts.push(
      startV2(slot.name).then(
        () => judging || console.log(`   ${slot.name} restarted, as an orchestrator restarts a crashed instance (${restarted + 1} of at most ${ANTI_PATTERN_RESTARTS})`),
        (err: Error) => console.log(`   restarting ${slot.name} failed: ${err.message}`),
      ),
    );
  }
};
let balancer: Balancer | undefined;
let stepStartedAt = recorder.now();
let failure: string | null = null;

async function instancesByVersion(): Promise<string> {
  const { alive } = await registry.list();
  const count = (v: string) => alive.filter((i) => i.appVersion === v).length;
  return `v1:${count('v1')} v2:${count('v2')}`;
}

async function endStep(title: string) {
  const step = recorder.currentStep;
  const clientLoop = clientLoopOfStep();
  const endedAt = await takeSnapshot(step);
  windows.push({ step, title, startedAt: stepStartedAt, endedAt, instances: await instancesByVersion(), clientLoop });
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

/** Runs one rollout step: its number, title, precondition, command and expected evidence come from its file (load/rollout/steps/). */
async function step(name: RolloutStep['name'], run: () => Promise<void>) {
  const file = rolloutStep(name);
  const { number: n, title, precondition, command, evidence: expected } = file;
  if (PAUSE) await pauseBefore(n, title);
  recorder.currentStep = stepLabel(file);
  stepsBegun.push(recorder.currentStep);
  stepStartedAt = recorder.now();
  clientLoopDelay.reset();
  observation.step(file.number, stepLabel(file), file.title, markerLabel(file));
  console.log(`\n== step ${n}: ${title}`);
  console.log(`   precondition: ${plain(precondition)}`);
  console.log(`   operator's command: ${plain(command)}`);
  console.log(`   expected evidence: ${expected}`);
  await run();
  await endStep(title);
}

/** An answer's fields as the mapping reads them, for an evidence line; whether they are `value`'s. */
const shown = (json: Record<string, unknown>) => JSON.stringify(mapping.fieldsOf(json) ?? json);
function holds(json: Record<string, unknown>, value: Record<string, string>): boolean {
  const seen = mapping.fieldsOf(json);
  return seen !== null && mapping.differingFields(seen, value).length === 0;
}

/** A README cell as terminal text: without the markdown's backticks. */
const plain = (markdown: string) => markdown.replaceAll('`', '');

const evidence = (line: string) => console.log(`   evidence: ${line}`);
const act = (line: string) => console.log(`   ${line}`);
const dwell = (seconds = STEP_SECONDS) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));
function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}
/** The commands that change the schema run as the migrator; every other one as cli. */
const SCHEMA_TOOLS = ['db-migrate', 'db-contract'];
async function tool(script: string, ...args: string[]) {
  const toolEnv = { ...env, ...(oneWayTrigger ? { ANTI_PATTERN: 'one-way-trigger' } : {}) };
  const result = await runTool(script, args, SCHEMA_TOOLS.includes(script) ? { ...toolEnv, DATABASE_URL: database.urls.migrator } : toolEnv);
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
  await step('base', async () => {
    await migrateTo('001-base');
    const seeded = await seedUsers(db, SEED_USERS);
    recorder.recordInitial(seeded);
    await Promise.all([startV1('v1-a', database.urls.cli), startV1('v1-b', database.urls.cli)]);
    balancer = await startBalancer({ upstreams: fleet.upstreams, dir: path.join(RESULTS_DIR, 'balancer') });
    act(`balancer (${balancer.kind}) at ${balancer.url} over slots ${fleet.slots.map((s) => `${s.name}=${s.port}`).join(' ')}`);
    stopLoad = new AbortController();
    let lastProgress = 0;
    loadDone = runLoad({
      url: balancer.url,
      recorder,
      connections: 8,
      ...(RATE === undefined ? {} : { rate: RATE }),
      durationSeconds: 3600,
      signal: stopLoad.signal,
      existingUsers: seeded.map((u) => u.key),
      // A tenth of the load on four users every connection writes at once: what tears a non-atomic dual-write.
      hotKeys: { users: 4, share: 0.1 },
      // PATCHes of one field and DELETEs beside the whole writes: where dual-write and dual-read break first.
      mix: DEMO_MIX,
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

  await step('expand', async () => {
    const applied = await migrateTo(EXPAND_PHASE_END);
    // A v1 reads the sync mode once, at start: one started before it was recorded judges by app's narrower range
    // and would leave at live (stage-guard.ts). So under SYNC=trigger the v1s restart too, as an operator would.
    const ownAccount = database.urls.v1 !== database.urls.cli;
    if (ownAccount || keepsLastV1) {
      for (const name of ['v1-a', 'v1-b']) {
        const drained = await fleet.stop(name);
        must(drained.code === 0, `${name} exited ${drained.code} when drained for its restart`);
        await startV1(name);
        await servedBy(name);
      }
      const why = [
        ...(ownAccount ? [`on v1's own account (${new URL(database.urls.v1).username}: old columns only, no DDL)`] : []),
        ...(keepsLastV1 ? ['to read the recorded sync mode (trigger: v1 may serve through new-only)'] : []),
      ];
      act(`v1-a and v1-b restarted one at a time ${why.join(', and ')}`);
    }
    await dwell(Math.min(2, STEP_SECONDS));
    evidence(`${applied.map((m) => `${m.name} ${m.ms} ms`).join(', ')}; v1 kept serving (errors this step are counted below)`);
  });

  await step('dual-write', async () => {
    await startV2('v2-a');
    await servedBy('v2-a');
    await dwell();
    evidence(`registry: ${await instancesByVersion()}; v2-a answered through the balancer`);
  });

  await step('cross-version', async () => {
    const v1 = fleet.slot('v1-a').instance!.url;
    const v2 = fleet.slot('v2-a').instance!.url;
    try {
      // Recorded as external writes: the checker judges them with the load, and knows whose row this is.
      const checkRequest = (request: Parameters<typeof externalRequest>[2]) => externalRequest(recorder, 'cross-version-check', request);
      // Through the mapping: the history records the mapping's fields, and these values must fit its columns.
      const byV2 = mapping.sampleFields('check-via-v2', 'example.test');
      const byV1 = mapping.sampleFields('check-via-v1', 'example.test');
      const viaV2 = await checkRequest({ f: 'create', url: v2, key: null, value: byV2 });
      const key = createdKey(viaV2.json);
      must(key !== null, `v2 answered the create with ${viaV2.status} and no id`);
      const readByV1 = await checkRequest({ f: 'read', url: v1, key: key! });
      const viaV1 = await checkRequest({ f: 'write', url: v1, key: key!, value: byV1 });
      const readByV2 = await checkRequest({ f: 'read', url: v2, key: key! });
      evidence(`v2 wrote ${shown(viaV2.json)}, v1 read ${shown(readByV1.json)}`);
      evidence(`v1 wrote ${shown(viaV1.json)}, v2 read ${shown(readByV2.json)} (X-Read-Source: ${readByV2.headers.get('x-read-source')})`);
      must(holds(readByV1.json, byV2) && holds(readByV2.json, byV1), 'a write was not visible through the other version');
    } catch (err) {
      // An anti-pattern is expected to break this; the checker's verdict below says how.
      if (!antiPattern) throw err;
      evidence(`the check failed, as ${antiPattern} is expected to make it: ${(err as Error).message}`);
    }
    await dwell(Math.min(2, STEP_SECONDS));
  });

  await step('dual-read', async () => {
    await tool('flags', 'set', 'dual-read', 'true');
    if (database.pair) await withReplicaLag(database.pair, Math.max(3, STEP_SECONDS), act);
    else await dwell();
    const metrics = await fetch(`${fleet.slot('v2-a').instance!.url}/metrics`)
      .then((r) => r.text())
      .catch((err: Error) => `unreachable: ${err.message}`);
    const mismatches = [...metrics.matchAll(/^dual_read_mismatches_total\{reason="(\w+)"[^}]*\} (\d+)/gm)].map((m) => `${m[1]}=${m[2]}`);
    evidence(`v2-a dual-read mismatches (dual_read_mismatches_total): ${mismatches.join(' ') || 'none'} (missing = not yet backfilled; different = a v1 write after v2's)`);
  });

  await step('retire-v1', async () => {
    const first = await fleet.stop('v1-a');
    act(`v1-a drained and exited ${first.code} in ${first.ms} ms`);
    await startV2('v2-b');
    await servedBy('v2-b');
    if (keepsLastV1) {
      // SYNC=trigger: the database copies v1-b's writes into the new column (and new-only's back), so it may
      // serve through live and new-only (stage-guard.ts); the contract, which drops its columns, waits for it.
      evidence(`registry: ${await instancesByVersion()}; v1-b keeps serving under SYNC=trigger until the contract step`);
    } else {
      await retireLastV1();
      evidence(`registry: ${await instancesByVersion()}; the last v1 is gone`);
    }
    await dwell(Math.min(2, STEP_SECONDS));
  });

  if (runsWholeRollout) {
    await step('backfill', async () => {
      const result = await tool('backfill');
      evidence(`backfill finished in ${result.ms} ms`);
      if (keepsLastV1) {
        // The step lasts as long as the backfill, which in a short demo is less than a second: v1-b's turns may not
        // come round in it (or it passes them over while it renews a lapsed lease). The claim is that it serves
        // through the backfill, so the step waits until it has answered once, rather than leave that to timing.
        await servedBy('v1-b');
        evidence('v1-b answered during the backfill (SYNC=trigger: the triggers copy its writes to the new column)');
      }
    });

    await step('verify', async () => {
      await tool('verify');
      evidence('verify exited 0: no drift');
      await dwell(Math.min(2, STEP_SECONDS));
    });

    await step('read-shift', async () => {
      for (const percent of [1, 10, 50, 100]) {
        await tool('rollout', 'advance', '--percent', String(percent));
        await dwell(Math.max(1, STEP_SECONDS / 4));
        const anomaliesSoFar = observation.anomaliesSoFar();
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
      // Reported, not asserted: within a second on a quiet machine (a 250 ms flag poll), but a loaded machine can
      // take longer; an instance that never follows fails the wait above.
      evidence(`slowest: ${slowest} ms (within 1 s expected on a quiet machine)`);
      await tool('rollout', 'advance', '--percent', '100');
      await dwell(Math.max(1, STEP_SECONDS / 2));
    });

    await step('live', async () => {
      await tool('verify');
      await tool('rollout', 'advance');
      await dwell();
      evidence('every alive instance loaded the live flags');
    });

    await step('new-only', async () => {
      await tool('db-migrate', 'up');
      await tool('rollout', 'advance');
      if (keepsLastV1) {
        // What SYNC=trigger promises the v1 still serving: v2's new-only write (profile_data alone) reaches the old
        // columns it reads. Recorded as external requests, judged with the load.
        const checkRequest = (request: Parameters<typeof externalRequest>[2]) => externalRequest(recorder, 'new-only-check', request);
        const v1 = fleet.slot('v1-b').instance!.url;
        const created = await checkRequest({ f: 'create', url: v1, key: null, value: mapping.sampleFields('new-only-via-v1', 'example.test') });
        const key = createdKey(created.json);
        must(key !== null, `v1-b answered the create with ${created.status} and no id`);
        const byV2 = mapping.sampleFields('new-only-via-v2', 'example.test');
        await checkRequest({ f: 'write', url: fleet.slot('v2-a').instance!.url, key: key!, value: byV2 });
        const readByV1 = await checkRequest({ f: 'read', url: v1, key: key! });
        evidence(`v2 wrote ${JSON.stringify(byV2)} in new-only, v1-b read ${shown(readByV1.json)}`);
        if (!holds(readByV1.json, byV2)) {
          must(oneWayTrigger, "v2's new-only write was not visible to v1-b");
          evidence("v1-b did not see v2's write, as one-way-trigger is expected to make it (no down trigger)");
        }
      }
      await dwell();
      evidence(`v2 writes only ${columns.new}`);
    });

    await step('contract', async () => {
      if (keepsLastV1) {
        await retireLastV1();
        evidence(`registry: ${await instancesByVersion()}; the last v1 is gone, after serving through live and new-only`);
        // The contract's gate wants a clean dual-mode verify that started after the last v1 stopped.
        await tool('verify', '--mode', 'dual');
      }
      await tool('db-contract');
      await dwell(Math.min(2, STEP_SECONDS));
      evidence(`${columns.oldAnd} are gone; v2 serves from ${columns.new}`);
    });
  }
} catch (err) {
  // A step that failed because an interrupt is stopping its processes is not a failure to report.
  await haltIfInterrupted(SIGNAL_GRACE_MS);
  failure = (err as Error).message;
  console.error(`\ndemo: step ${recorder.currentStep} failed: ${failure}`);
}
await haltIfInterrupted();

// Stop the load (in-flight requests are answered), take the final snapshot, read every user's final value, judge.
// Each part of the judgment must run, or the demo fails naming it (load/run/judgment.ts).
judging = true;
await Promise.all(exitSnapshots);
// A restart still starting: let it finish, so that stopAll below stops it too.
await Promise.all(restarts);
stopLoad?.abort();
await loadDone?.catch(() => {});
const { verdict, judgment, failure: catchUpFailure } = await judgeRun({
  runner: 'demo',
  recorder,
  snapshots,
  perStepSnapshots: stepsBegun,
  finalSnapshot: async () => ({ step: 'final', rows: await snapshotUsers(db), takenAt: recorder.now(), v1MayBeAlive }),
  beforeFinalRead: database.pair ? () => replicaCaughtUp(database.pair!) : undefined,
  finalReadFrom: FAULT === 'final-read' ? 'http://127.0.0.1:1' : (balancer?.url ?? null),
  consistency,
});
failure ??= catchUpFailure;
const finalRows = snapshots.find((snapshot) => snapshot.step === 'final')?.rows;
const fromNew = (finalRows?.length ?? 0) > 0 && finalRows!.every((r) => r.old === null);
await observation.stop();
await fleet.stopAll();
await balancer?.stop();
await db.close();
await migrator.close();
await database.drop();

const budget = 0;
const unjudged = judgment.missing();
const { passed, line: lastLine } = conclude(verdict, { reasons: [failure, ...unjudged].filter((reason): reason is string => reason !== null), budget });
const summary = {
  scenario: SCENARIO,
  database: database.kind,
  // Since this process started (start-up included): what `make bench` reports as the demo's wall time.
  wallSeconds: Math.round(process.uptime()),
  passed,
  failure,
  unjudged,
  anomalies: verdict.anomalies,
  byKind: verdict.byKind,
  drift: verdict.drift,
  acknowledgedWrites: verdict.acknowledgedWrites,
  reads: verdict.reads,
  lookups: verdict.lookups,
  unknownOutcomes: verdict.unknownOutcomes,
  failedRequests: verdict.failedRequests,
  failedRequestBudget: budget,
  failedRequestExamples: verdict.failedExamples,
  retries: verdict.retries,
  versionsSeen: verdict.versionsSeen,
  finalValuesFrom: fromNew ? mapping.newColumn : 'the balancer',
  steps: windows.map((w): StepStats & { title: string; instances: string; anomalies: number; clientLoop: ClientLoop } => ({
    ...stepStats(w.step, recorder.ops, w.startedAt, w.endedAt),
    title: w.title,
    instances: w.instances,
    clientLoop: w.clientLoop,
    anomalies: verdict.perStep[w.step]?.anomalies ?? 0,
  })),
  // Per step, the anomalies of each kind found there (the final read's and final snapshot's in "final").
  anomaliesByStep: Object.fromEntries(
    Object.entries(verdict.perStep)
      .filter(([, s]) => s.anomalies > 0)
      .map(([step, s]) => [step, Object.fromEntries(Object.entries(s.byKind).filter(([, n]) => n > 0))]),
  ),
  examples: verdict.examples,
  ...(verdict.crossSession ? { consistency: 'session', crossSession: { reads: verdict.crossSession.reads, byKind: verdict.crossSession.byKind } } : {}),
};
fs.writeFileSync(path.join(RESULTS_DIR, 'demo-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
// One line per finished demo, kept across runs: make bench judges the p99 drift over the latest three.
appendDemoRun(RESULTS_DIR, {
  at: new Date().toISOString(),
  scenario: SCENARIO,
  database: database.kind,
  passed,
  wallSeconds: summary.wallSeconds,
  rate: RATE ?? null,
  steps: summary.steps.map((s) => ({ step: s.step, p99: s.p99, perSecond: s.perSecond, clientLoopMaxMs: s.clientLoop.maxMs })),
});
const reportFile = await observation.finish({ verdict, steps: summary.steps, passed, failure: [failure, ...unjudged].filter(Boolean).join('; ') || null, final: recorder.final, snapshots });

console.log(`\n${'='.repeat(100)}\nRollout summary (${SCENARIO}, ${database.kind})`);
console.log(`${'step'.padEnd(16)}${'req/s'.padStart(7)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'errors'.padStart(8)}${'retries'.padStart(8)}${'anomalies'.padStart(10)}  instances   served by`);
for (const s of summary.steps) {
  const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(1));
  console.log(
    `${s.step.padEnd(16)}${String(s.perSecond).padStart(7)}${fmt(s.p50).padStart(8)}${fmt(s.p99).padStart(8)}${String(s.errors).padStart(8)}${String(s.retries).padStart(8)}${String(s.anomalies).padStart(10)}  ${s.instances.padEnd(11)} ${Object.entries(s.byVersion).map(([v, n]) => `${v}=${n}`).join(' ')}`,
  );
}
const loopRange = (pick: (l: ClientLoop) => number) => {
  const values = summary.steps.map((s) => pick(s.clientLoop));
  return `${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)} ms`;
};
if (summary.steps.length > 0) {
  console.log(`the load's own process (load, live checker, recorder): event-loop delay per step p99 ${loopRange((l) => l.p99Ms)}, max ${loopRange((l) => l.maxMs)}${RATE === undefined ? '' : `; the load paced at ${RATE} requests/s`}`);
}
console.log(formatVerdict(verdict));
console.log(judgment.describe());
console.log(`history: ${path.relative(process.cwd(), recorder.file ?? '') || '-'}   summary: ${path.relative(process.cwd(), path.join(RESULTS_DIR, 'demo-summary.json'))}`);
console.log(`report: ${path.relative(process.cwd(), reportFile)}   instance logs: ${path.relative(process.cwd(), path.join(RESULTS_DIR, 'logs'))}/`);
if (!passed && verdict.failedRequests > 0) {
  // Again at the foot of the screen, where a CI log's tail shows it, with what the instances said about it.
  for (const failed of verdict.failedExamples.slice(0, 3)) console.log(`failed: ${failed}`);
  const warnings = instanceWarnings(path.join(RESULTS_DIR, 'logs'));
  console.log(`the instances' first warnings and errors:${warnings.length === 0 ? ' none' : ''}`);
  for (const line of warnings) console.log(`  ${line}`);
}
console.log(lastLine);
process.exit(passed ? 0 : 1);
