// Bench: the batched backfill against the physical limit, one UPDATE of every row.
//   npm run bench:backfill -- [--rows N] [--repeat K] [-- backfill options...]     (MYSQL_URL, RESULTS_DIR)
// On a database of its own (dropped at the end), for each repeat: seed N rows, time one
//   UPDATE users SET profile_data = JSON_OBJECT('name', name, 'email', email)
// then seed again from scratch and time `node --import tsx cli/backfill.ts` as a process (start-up included),
// unthrottled, on the otherwise idle database. Prints both rates and their ratio (goal: >= 0.8x) and writes
// RESULTS_DIR/bench-backfill.json. Each measurement starts from a freshly seeded table with the same history,
// because a table whose rows were already grown once (or whose old versions are still being purged) is faster
// or slower to update again, which would make the comparison meaningless.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { connectDatabase } from '../shared/db/connection.ts';
import { migrateUp } from '../shared/migrations/runner.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const MYSQL_URL = process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/';
const RESULTS_DIR = path.resolve(process.env.RESULTS_DIR || 'results');

const { values, positionals } = (() => {
  try {
    return parseArgs({ options: { rows: { type: 'string' }, repeat: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (err) {
    console.error(`bench-backfill: ${(err as Error).message.split('. ')[0]}`);
    process.exit(2);
  }
})();
const positiveInteger = (name: string, raw: string | undefined, fallback: number) => {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    console.error(`bench-backfill: --${name} must be a positive integer (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return Number(raw);
};
const rows = positiveInteger('rows', values.rows, 1_000_000);
const repeat = positiveInteger('repeat', values.repeat, 1);
const backfillArgs = positionals;

const database = `bench_backfill_${process.pid}`;
const url = `${MYSQL_URL.replace(/\/?$/, '/')}${database}`;
const admin = await mysql.createConnection({ uri: MYSQL_URL });
const rate = (ms: number) => Math.round((rows * 1000) / ms);

/** A fresh database at the current schema (profile_data NULL everywhere) with `rows` users. */
async function freshTable(): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  await admin.query(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  const db = await connectDatabase(url, { poolMax: 1 });
  try {
    await migrateUp(db);
    const seed = Array.from({ length: Math.min(rows, 1000) }, (_, i) => `('user ${i}', 'user.${i}@example.test', CURRENT_TIMESTAMP(3), CURRENT_TIMESTAMP(3))`);
    await db.run(`INSERT INTO users (name, email, created_at, updated_at) VALUES ${seed.join(', ')}`);
    // Doubling: each INSERT ... SELECT copies as many rows as exist, with unique names and emails.
    for (let count = seed.length; count < rows; count += Math.min(count, rows - count)) {
      await db.run(
        `INSERT INTO users (name, email, created_at, updated_at)
         SELECT CONCAT(name, ' ', id), CONCAT(id, '.', email), created_at, updated_at FROM users ORDER BY id LIMIT ${Math.min(count, rows - count)}`,
      );
    }
  } finally {
    await db.close();
  }
  await quietServer();
}

/**
 * Waits until InnoDB has flushed the seed's dirty pages and purged its undo history (at most a minute), so both
 * measurements start from the same quiet state; timing an UPDATE while the server still writes back the previous
 * table's pages varied by a third here.
 */
async function quietServer(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [rows] = (await admin.query(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_buffer_pool_pages_dirty', 'Innodb_history_list_length', 'Innodb_checkpoint_age')",
    )) as unknown as [{ Variable_name: string; Value: string }[]];
    const status = Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
    const quiet = (status.Innodb_buffer_pool_pages_dirty ?? 0) < 100 && (status.Innodb_history_list_length ?? 0) < 1000 && (status.Innodb_checkpoint_age ?? 0) < 1_000_000;
    if (quiet || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}

async function timeOneStatement(): Promise<number> {
  const db = await connectDatabase(url, { poolMax: 1 });
  try {
    const started = performance.now();
    await db.run("UPDATE users SET profile_data = JSON_OBJECT('name', name, 'email', email)");
    return performance.now() - started;
  } finally {
    await db.close();
  }
}

async function timeBackfillProcess(): Promise<{ ms: number; output: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli', 'backfill.ts'), ...backfillArgs], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`cli/backfill.ts exited ${code}:\n${output}`);
  return { ms, output };
}

// The load average goes into the results: on a shared machine, another process's CPU use slows the batched run
// (many short statements) more than the single one, and a ratio means little without it.
const runs: { oneStatementMs: number; backfillMs: number; ratio: number; loadAverage: number[] }[] = [];
try {
  for (let i = 1; i <= repeat; i++) {
    await freshTable();
    const oneStatementMs = await timeOneStatement();
    await freshTable();
    const { ms: backfillMs, output } = await timeBackfillProcess();
    const [check] = (await admin.query(`SELECT COUNT(*) AS missing FROM ${database}.users WHERE profile_data IS NULL`)) as unknown as [{ missing: number }[]];
    if (Number(check[0]!.missing) !== 0) throw new Error(`the backfill left ${check[0]!.missing} rows without profile_data`);
    const ratio = oneStatementMs / backfillMs;
    const loadAverage = os.loadavg().map((value) => Number(value.toFixed(2)));
    runs.push({ oneStatementMs: Math.round(oneStatementMs), backfillMs: Math.round(backfillMs), ratio: Number(ratio.toFixed(3)), loadAverage });
    console.log(output.trim().split('\n').filter((line) => /done|this process|whole run/.test(line)).join('\n'));
    console.log(
      `run ${i}/${repeat}: one UPDATE ${(oneStatementMs / 1000).toFixed(2)} s (${rate(oneStatementMs).toLocaleString('en-US')} rows/s); ` +
        `backfill process ${(backfillMs / 1000).toFixed(2)} s (${rate(backfillMs).toLocaleString('en-US')} rows/s): ${ratio.toFixed(2)}x (load average ${loadAverage.join(' ')})`,
    );
  }
  const ratios = runs.map((r) => r.ratio).sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)]!;
  const summary = { rows, repeat, backfillArgs, server: (await admin.query('SELECT VERSION() AS v'))[0], runs, medianRatio: median, goal: 0.8, met: median >= 0.8 };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, 'bench-backfill.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`median ratio ${median.toFixed(2)}x of one UPDATE (goal >= 0.8x): ${summary.met ? 'met' : 'NOT met'}; ${path.join(RESULTS_DIR, 'bench-backfill.json')}`);
  process.exitCode = summary.met ? 0 : 1;
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  await admin.end();
}
