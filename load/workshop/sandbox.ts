// make workshop: the sandbox attendees drive. The fleet (two v1 and one v2, with spare balancer slots: three
// per version), the balancer, continuous load and the live dashboard keep running with no scripted steps until
// Ctrl-C; attendees act from the dashboard's controls (load/workshop/actions.ts) or from a second terminal with
// the DATABASE_URL printed at the start. The live checker judges continuously; there is no PASSED/FAILED: each
// anomaly is printed and shown next to the attendee action nearest before it (attribution.ts).
//
//   DB=sqlite|mysql (MYSQL_URL)   RESULTS_DIR=results (the sandbox writes to $RESULTS_DIR/workshop)
//   DASHBOARD_PORT=8070 (0: any free port)   BALANCER=nginx|node
//   WORKSHOP_USERS=20000 (rows seeded, in multi-row batches)   WORKSHOP_BACKFILL_SLEEP_MS (default: about a minute in all)
//   WORKSHOP_LOAD_USERS=2000 (seeded users the load reads and writes)   WORKSHOP_CONNECTIONS=2
// Memory stays bounded over a whole workshop: the history file gets every request, but the process keeps only a
// ring of the most recent (KEEP_OPS, for the live checker and the dashboard) and the live checker only each user's
// recent operations (KEEP_PER_USER: load/observe/live-checker.ts says how it forgets). Before, it kept everything and
// re-judged it as it grew: 360 MB after 5 minutes at ~320 requests/s (four connections), measured here.
// Writes by hand (curl to the balancer, SQL in the database) are spotted as the load reads their values, recorded
// as external and listed (external-writes.ts).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { connectDatabase } from '../../shared/db/connection.ts';
import { migrateUp } from '../../shared/migrations/runner.ts';
import { instanceRegistry } from '../../shared/registry/instances.ts';
import { startBalancer } from '../infra/balancer/index.ts';
import { freshDatabase } from '../run/database.ts';
import { Fleet } from '../run/fleet.ts';
import { dashboardPort, startObservation } from '../observe/observation.ts';
import { formatProgress, runLoad } from '../proof/generator.ts';
import { HistoryRecorder } from '../proof/history.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import { installInterruptHandling, interrupted, onInterruptWriteResults } from '../infra/cleanup.ts';
import { SandboxControls } from './actions.ts';
import { attribute, describeAttributed } from './attribution.ts';
import type { AttributedAnomaly } from './attribution.ts';
import { controlsApi } from './controls-api.ts';
import { seedUsers } from '../run/seed.ts';
import { describeExternalWrite, ExternalWrites } from './external-writes.ts';
import { EXPAND_PHASE_END } from '../../shared/rollout/state.ts';

function integerEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`workshop: ${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return n;
}

const DB = process.env.DB || 'sqlite';
if (DB !== 'sqlite' && DB !== 'mysql') {
  console.error(`workshop: DB must be sqlite or mysql (got ${JSON.stringify(DB)}); a replica is make demo DB=mysql-replica`);
  process.exit(2);
}
const RESULTS_DIR = path.join(path.resolve(process.env.RESULTS_DIR || 'results'), 'workshop');
const DASHBOARD_PORT = dashboardPort(process.env.DASHBOARD_PORT);
const USERS = integerEnv('WORKSHOP_USERS', 20_000, 10, 1_000_000);
const LOAD_USERS = Math.min(USERS, integerEnv('WORKSHOP_LOAD_USERS', 2000, 1, 1_000_000));
const CONNECTIONS = integerEnv('WORKSHOP_CONNECTIONS', 2, 1, 64);
// About a minute over the whole table: 200 keys a batch, so USERS / 200 batches share 60 s of pauses.
const BACKFILL_BATCH = 200;
/** Operations kept in memory: a minute of load or more, far more than the live checker's look each second needs. */
const KEEP_OPS = 20_000;
const KEEP_PER_USER = 50;
const BACKFILL_SLEEP_MS = integerEnv('WORKSHOP_BACKFILL_SLEEP_MS', Math.max(0, Math.round(60_000 / Math.ceil(USERS / BACKFILL_BATCH)) - 15), 0, 60_000);

fs.mkdirSync(RESULTS_DIR, { recursive: true });
// Ctrl-C, SIGTERM, SIGHUP: everything started below is stopped, the database dropped (load/infra/cleanup.ts).
installInterruptHandling({ tool: 'workshop', resultsDir: RESULTS_DIR, verdict: false });

const database = await freshDatabase(DB, RESULTS_DIR, process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/');
const env = { DATABASE_URL: database.url, LOG_LEVEL: 'warn' };
const db = await connectDatabase(database.url, { poolMax: 4 });
const registry = instanceRegistry(db);
let externalWrites: ExternalWrites | undefined;
const recorder = new HistoryRecorder({ fields: mapping.oldColumnNames, file: path.join(RESULTS_DIR, 'history.jsonl'), step: 'sandbox', keepOps: KEEP_OPS, onComplete: (op) => externalWrites?.observe(op) });
const stopLoad = new AbortController();
let loadDone: Promise<unknown> | undefined;
const anomalies: AttributedAnomaly[] = [];
let controls: SandboxControls | undefined;
onInterruptWriteResults(async () => {
  stopLoad.abort();
  await loadDone?.catch(() => {});
  await recorder.close();
  const file = path.join(RESULTS_DIR, 'workshop-summary.json');
  const summary = { mode: 'sandbox (no verdict)', database: database.kind, requestsRecorded: recorder.recorded, actions: controls?.actions ?? [], externalWrites: externalWrites?.seen ?? [], anomalies };
  fs.writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  return `workshop: ${path.relative(process.cwd(), file)} lists the ${controls?.actions.length ?? 0} actions and ${anomalies.length} anomalies; history.jsonl and actions.jsonl beside it`;
});

console.log(`workshop: sandbox on ${database.describe}; seeding ${USERS} users`);
await migrateUp(db, { to: '001-base', log: () => {} });
const seeded = await seedUsers(db, USERS);
const loaded = seeded.slice(0, LOAD_USERS);
recorder.recordInitial(loaded);
await migrateUp(db, { to: EXPAND_PHASE_END, log: () => {} });

// Two v1 and one v2 serve from the start (the rollout is at dual-write); three spare slots per version wait for
// the instances attendees start.
const layout = [
  ...['a', 'b', 'c', 'd', 'e'].map((s) => ({ name: `v1-${s}`, version: 'v1' as const })),
  ...['a', 'b', 'c', 'd'].map((s) => ({ name: `v2-${s}`, version: 'v2' as const })),
];
const fleet = await Fleet.allocate(layout, { ...env, LOG_LEVEL: 'info' }, { logDir: path.join(RESULTS_DIR, 'logs') });
fleet.onUnexpectedExit = (slot, exit) => interrupted() || console.log(`workshop: ${slot.name} exited on its own (${exit.signal ?? `exit code ${exit.code}`})`);
await Promise.all([fleet.start('v1-a'), fleet.start('v1-b'), fleet.start('v2-a')]);
const balancer = await startBalancer({ upstreams: fleet.upstreams, dir: path.join(RESULTS_DIR, 'balancer') });

const token = randomBytes(16).toString('hex');
const observation = await startObservation({
  resultsDir: RESULTS_DIR,
  recorder,
  db,
  registry,
  meta: { scenario: 'sandbox (no verdict: attendees act)', database: database.describe, stepSeconds: 0 },
  port: DASHBOARD_PORT,
  api: controlsApi({
    token,
    perform: (action, input) => (controls ? controls.perform(action, input) : Promise.resolve({ status: 503, body: { error: { code: 'starting', message: 'the sandbox is still starting' } } })),
  }),
  keepPerUser: KEEP_PER_USER,
  extraSnapshot: () => ({ sandbox: { actions: controls?.actions ?? [], externalWrites: externalWrites?.seen ?? [], anomalies, fleet: controls?.fleetView() ?? [], backfill: { batch: BACKFILL_BATCH, sleepMs: BACKFILL_SLEEP_MS } } }),
});
const sandboxControls = new SandboxControls({
  db,
  fleet,
  recorder,
  observation,
  env,
  logFile: path.join(RESULTS_DIR, 'actions.jsonl'),
  backfill: { batch: BACKFILL_BATCH, sleepMs: BACKFILL_SLEEP_MS },
  print: (line) => console.log(`\n${line}`),
});
controls = sandboxControls;
externalWrites = new ExternalWrites(recorder, observation.secondsAt, (record) => {
  observation.publish('external', record);
  console.log(`\n${describeExternalWrite(record)}`);
});
externalWrites.seed(loaded);
if (!externalWrites.spotting) console.log(`note: MAPPING=${mapping.id}'s sample does not carry the load's tag as written, so writes by hand cannot be told from the load's: their reads will show as anomalies`);
const writesByHand = externalWrites;
observation.step(0, 'sandbox', 'sandbox: two v1 and one v2 dual-writing under load; act from the controls', 'sandbox start');

let lastProgress = 0;
loadDone = runLoad({
  url: balancer.url,
  recorder,
  connections: CONNECTIONS,
  durationSeconds: 24 * 3600,
  maxRequests: Number.MAX_SAFE_INTEGER,
  signal: stopLoad.signal,
  existingUsers: loaded.map((u) => u.key),
  maxUsers: LOAD_USERS + 2000,
  // As in the demo: a tenth of the load on four users every connection writes at once (what tears a dual-write).
  hotKeys: { users: 4, share: 0.1 },
  onProgress: (progress) => {
    if (process.stdout.isTTY && Date.now() - lastProgress > 1000) {
      lastProgress = Date.now();
      process.stdout.write(`\r${formatProgress(progress)}   `);
    }
  },
});
void loadDone.catch((err: Error) => console.error(`workshop: the load stopped: ${err.message}`));

// Every second: anomalies found since, each next to the action (or write by hand) nearest before the finding.
const seen = new Set<string>();
setInterval(() => {
  const foundAt = recorder.now();
  for (const anomaly of observation.anomalies()) {
    const key = `${anomaly.kind} ${anomaly.key} ${anomaly.at}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const events = [...sandboxControls.actions, ...writesByHand.seen.map((e) => ({ id: null, atMs: e.atMs, title: e.title }))];
    const attributed = attribute(anomaly, events, observation.secondsAt, foundAt);
    anomalies.push(attributed);
    observation.publish('anomaly', attributed);
    console.log(`\n${describeAttributed(attributed)}`);
  }
}, 1000).unref();

const url = `${observation.url}?token=${token}`;
console.log(`
workshop: the sandbox runs until Ctrl-C (no scripted steps, no verdict: the checker judges live)
  dashboard:    ${url}
                (the controls need this token; bound to 127.0.0.1)
  DATABASE_URL=${database.url}
                (a second terminal: DATABASE_URL=... npm run rollout -- status, npm run flags -- get, npm run verify)
  balancer:     ${balancer.url} (${balancer.kind}; slots ${fleet.slots.map((s) => `${s.name}=${s.port}`).join(' ')})
  by hand:      a write with curl to the balancer or SQL in the database, on a user the load uses (ids 1-${LOAD_USERS};
                1-4 the busiest), shows up as "external write seen" once the load reads it
  backfill:     ${USERS} rows, --batch ${BACKFILL_BATCH} --sleep-ms ${BACKFILL_SLEEP_MS} (about a minute)
  results:      ${path.relative(process.cwd(), RESULTS_DIR)} (history.jsonl, actions.jsonl, logs/)
`);
// Runs until a signal: the interrupt handler stops everything and exits.
await new Promise<never>(() => {});
