// Bench: what a read replica costs and what the lag throttle buys, on a private MariaDB primary + GTID replica.
//   npm run bench:replica -- [--rows N] [--max-lag-ms N] [--reads N] [-- backfill options...]   (RESULTS_DIR)
// 1. Replica lag during a backfill of N rows (default 1M), against the one-statement limit: seed, time one
//    `UPDATE users SET profile_data = JSON_OBJECT(...)` and the lag it causes; seed again, run `cli/backfill.ts`
//    with DATABASE_REPLICA_URL (lag throttle at --max-lag-ms, default 1500) and sample the lag all along.
//    Lag sample: the primary's GTID position at t0, then MASTER_GTID_WAIT on the replica: the lag is how long
//    the replica took to reach what the primary had at t0 (what a reader that waits for a token would wait).
// 2. Latency (N write-then-read pairs each, default 2000), one v2 instance process per set-up, interleaved: each
//    read right after the same client's write, with its token: primary only (no replica configured) vs token
//    wait on the replica; then the replica set-up with the replica's SQL thread stopped (the wait times out,
//    the primary serves). Writes RESULTS_DIR/bench-replica.json.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectDatabase } from '../../shared/db/connection.ts';
import { runTool } from '../run/operator.ts';
import { migrateAndSeed } from './backfill.ts';
import { startReplicaPair } from '../infra/private-mariadb.ts';
import type { ReplicaPair } from '../infra/private-mariadb.ts';
import { installInterruptHandling } from '../infra/cleanup.ts';
import { startInstanceProcess } from '../infra/instance-process.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import { requireSql } from '../../shared/mapping-contract.ts';

const RESULTS_DIR = path.resolve(process.env.RESULTS_DIR || 'results');
const { values, positionals: backfillArgs } = (() => {
  try {
    return parseArgs({ options: { rows: { type: 'string' }, 'max-lag-ms': { type: 'string' }, reads: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (err) {
    console.error(`bench-replica: ${(err as Error).message.split('. ')[0]}`);
    process.exit(2);
  }
})();
const positiveInteger = (name: string, raw: string | undefined, fallback: number) => {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    console.error(`bench-replica: --${name} must be a positive integer (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return Number(raw);
};
const rows = positiveInteger('rows', values.rows, 1_000_000);
const maxLagMs = positiveInteger('max-lag-ms', values['max-lag-ms'], 1500);
const readCount = positiveInteger('reads', values.reads, 2000);
const DATABASE = 'bench';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const round1 = (ms: number) => Math.round(ms * 10) / 10;

async function caughtUp(pair: ReplicaPair): Promise<void> {
  if (!(await pair.waitForGtid(await pair.primaryGtidPos(), 600))) throw new Error('the replica did not catch up within 10 minutes');
}

async function freshTable(pair: ReplicaPair): Promise<string> {
  const admin = await pair.primary.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
  await admin.query(`CREATE DATABASE ${DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await admin.end();
  const url = `${pair.primary.url}${DATABASE}`;
  await migrateAndSeed(url, rows);
  await caughtUp(pair);
  return url;
}

/** Samples replica lag until stopped; resolves with every sample (ms). */
function sampleLag(pair: ReplicaPair): { stop(): Promise<number[]> } {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      const position = await pair.primaryGtidPos();
      if (!(await pair.waitForGtid(position, 600))) throw new Error('lag sample: the replica did not catch up within 10 minutes');
      samples.push(performance.now() - t0);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

const lagSummary = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { samples: sorted.length, maxMs: round1(sorted.at(-1) ?? 0), p50Ms: round1(percentile(sorted, 50)), p99Ms: round1(percentile(sorted, 99)) };
};

function request(agent: http.Agent, url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Client {
  name: string;
  baseUrl: string;
  agent: http.Agent;
  id: number;
  token: string | undefined;
  writes: number[];
  reads: number[];
  readFrom: Record<string, number>;
}

const tokenHeader = (t: string | undefined): Record<string, string> => (t ? { 'x-consistency-token': t } : {});

async function client(name: string, baseUrl: string): Promise<Client> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const created = await request(agent, `${baseUrl}${mapping.route}`, 'POST', {}, JSON.stringify(mapping.sampleFields('bench', 'example.test')));
  return { name, baseUrl, agent, id: JSON.parse(created.body).id as number, token: created.headers['x-consistency-token'] as string | undefined, writes: [], reads: [], readFrom: {} };
}

/** One write, then the same client's read of it with the write's token (the read-your-writes case). */
async function writeThenRead(c: Client, i: number): Promise<void> {
  let started = performance.now();
  const written = mapping.sampleFields(`bench-${i}`, 'example.test');
  const put = await request(c.agent, `${c.baseUrl}${mapping.route}/${c.id}`, 'PUT', tokenHeader(c.token), JSON.stringify(written));
  c.writes.push(performance.now() - started);
  c.token = (put.headers['x-consistency-token'] as string | undefined) ?? c.token;
  started = performance.now();
  const read = await request(c.agent, `${c.baseUrl}${mapping.route}/${c.id}`, 'GET', tokenHeader(c.token));
  c.reads.push(performance.now() - started);
  if (mapping.differingFields(written, JSON.parse(read.body) as Record<string, string>).length > 0) throw new Error(`${c.name}: read ${i} did not return the client's own write: ${read.body}`);
  const from = String(read.headers['x-read-from'] ?? 'primary (no replica)');
  c.readFrom[from] = (c.readFrom[from] ?? 0) + 1;
  c.token = (read.headers['x-consistency-token'] as string | undefined) ?? c.token;
}

const stats = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  return { requests: sorted.length, p50Ms: round1(percentile(sorted, 50)), p99Ms: round1(percentile(sorted, 99)), maxMs: round1(sorted.at(-1) ?? 0), meanMs: round1(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)) };
};
const report = (c: Client) => ({ writes: stats(c.writes), readsAfterOwnWrite: stats(c.reads), readFrom: c.readFrom });
const reset = (c: Client) => Object.assign(c, { writes: [], reads: [], readFrom: {} });

/** Interleaved, so that both set-ups see the same machine load. Then the replica set-up alone, lagging. */
async function readLatency(primaryOnlyUrl: string, replicaUrl: string, pair: ReplicaPair) {
  const clients = [await client('primary only', primaryOnlyUrl), await client('token wait', replicaUrl)];
  for (let i = 0; i < readCount; i++) for (const c of clients) await writeThenRead(c, i);
  const [primaryOnly, tokenWait] = clients.map(report);
  const lagging = reset(clients[1]!);
  await pair.stopReplicaSqlThread();
  try {
    for (let i = 0; i < Math.min(readCount, 500); i++) await writeThenRead(lagging, readCount + i);
  } finally {
    await pair.startReplicaSqlThread();
  }
  for (const c of clients) c.agent.destroy();
  return { primaryOnly, tokenWait, tokenWaitWhileReplicaStopped: report(lagging) };
}

// Ctrl-C, SIGTERM, SIGHUP: the private servers, their folders, the instances and the backfill are stopped
// (load/infra/cleanup.ts); nothing is judged, bench-replica.json is written only by a finished run.
installInterruptHandling({ tool: 'bench-replica', resultsDir: RESULTS_DIR });
const pair = await startReplicaPair();
try {
  console.log(`bench-replica: primary :${pair.primary.port}, replica :${pair.replica.port}; ${rows.toLocaleString('en-US')} rows`);
  let url = await freshTable(pair);
  let sampler = sampleLag(pair);
  let started = performance.now();
  const oneDb = await connectDatabase(url, { poolMax: 1 });
  await oneDb.run(`UPDATE ${mapping.table} SET ${mapping.newColumn} = ${requireSql(mapping, 'the bench').newFromOldSql(oneDb.dialect)}`);
  const oneStatementMs = performance.now() - started;
  await oneDb.close();
  await caughtUp(pair);
  const oneStatementLag = lagSummary(await sampler.stop());
  console.log(`one UPDATE: ${(oneStatementMs / 1000).toFixed(2)} s (${Math.round((rows * 1000) / oneStatementMs).toLocaleString('en-US')} rows/s); replica lag max ${oneStatementLag.maxMs} ms`);

  url = await freshTable(pair);
  sampler = sampleLag(pair);
  started = performance.now();
  const backfill = await runTool('backfill', ['--max-lag-ms', String(maxLagMs), '--progress-interval-ms', '5000', ...backfillArgs], { DATABASE_URL: url, DATABASE_REPLICA_URL: `${pair.replica.url}${DATABASE}` });
  const backfillMs = performance.now() - started;
  const backfillLag = lagSummary(await sampler.stop());
  if (backfill.code !== 0) throw new Error(`cli/backfill.ts exited ${backfill.code}`);
  const throttledLines = backfill.output.split('\n').filter((line) => /replica lag/.test(line)).length;
  console.log(
    `backfill with lag throttle ${maxLagMs} ms: ${(backfillMs / 1000).toFixed(2)} s (${Math.round((rows * 1000) / backfillMs).toLocaleString('en-US')} rows/s, ` +
      `${(oneStatementMs / backfillMs).toFixed(2)}x of one UPDATE); replica lag max ${backfillLag.maxMs} ms, p50 ${backfillLag.p50Ms} ms (${backfillLag.samples} samples)`,
  );

  // Read latency: one v2 without a replica (every read on the primary), one with it (token wait).
  const env = { DATABASE_URL: url, DB_POOL_MAX: '10' };
  const withoutReplica = await startInstanceProcess('v2', env);
  const withReplica = await startInstanceProcess('v2', { ...env, DATABASE_REPLICA_URL: `${pair.replica.url}${DATABASE}` });
  let reads;
  try {
    reads = await readLatency(withoutReplica.url, withReplica.url, pair);
  } finally {
    await Promise.all([withoutReplica.stop(), withReplica.stop()]);
  }
  for (const [setUp, figures] of Object.entries(reads)) console.log(`${setUp}: ${JSON.stringify(figures)}`);

  const summary = {
    rows,
    server: 'private MariaDB primary + GTID replica (load/infra/private-mariadb.ts)',
    oneStatement: { ms: Math.round(oneStatementMs), rowsPerSecond: Math.round((rows * 1000) / oneStatementMs), replicaLag: oneStatementLag },
    backfill: { maxLagMs, args: backfillArgs, ms: Math.round(backfillMs), rowsPerSecond: Math.round((rows * 1000) / backfillMs), ratioToOneStatement: Number((oneStatementMs / backfillMs).toFixed(3)), replicaLag: backfillLag, throttledProgressLines: throttledLines },
    reads,
    goal: { backfillLagUnderMs: 1500, met: backfillLag.maxMs < 1500 },
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, 'bench-replica.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`replica lag during the backfill: max ${backfillLag.maxMs} ms (goal < 1500 ms): ${summary.goal.met ? 'met' : 'NOT met'}; ${path.join(RESULTS_DIR, 'bench-replica.json')}`);
  process.exitCode = summary.goal.met ? 0 : 1;
} finally {
  await pair.stop();
}
