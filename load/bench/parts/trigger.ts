// make bench, part `trigger`: what SYNC=trigger costs against SYNC=app (docs/sync-strategies.md), measured as the
// other parts are (same instances and users, ABBA rounds, the spread judged):
// - every writer pays on every write: v1's PUT (the "up" trigger computes profile_data from its old columns) and
//   v2's PUT (a dual-write changes both representations, so the triggers leave it alone, but still run their
//   comparisons), each with the sync triggers installed against without. The cost is in the database's CPU, so
//   it shows in throughput and p99, not in the instance's CPU per request (shown to make that plain);
// - a bulk UPDATE of the old columns (what a data fix or a migration script does) with the triggers against
//   without, on MariaDB and on SQLite: pgroll's own benchmark measures its sync trigger at about 4.4x on Postgres.
// The triggers are installed and dropped online between measurements (shared/sync/triggers.ts), as a rollout does.
// No goal: these rows are for choosing a strategy (docs/sync-strategies.md), not a promise.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectDatabase } from '../../../shared/db/connection.ts';
import type { Database } from '../../../shared/db/connection.ts';
import { migrateUp } from '../../../shared/migrations/runner.ts';
import { syncModeUnsupported } from '../../../shared/rollout/sync.ts';
import { columns, mapping } from '../../../shared/schema-mapping.ts';
import { dropSyncTriggers, installSyncTriggers, SYNC_DIRECTIONS, syncTriggerPresence } from '../../../shared/sync/triggers.ts';
import { seedOldRows } from '../backfill.ts';
import { alternate } from '../compare.ts';
import type { BenchPart, HttpContext } from '../context.ts';
import { httpPlan, loadOn } from '../context.ts';
import { cpuFigure, fmt, p99Figure, rounded, throughputFigure } from '../figures.ts';
import type { Pair } from '../figures.ts';
import { median } from '../http-load.ts';
import { judged } from '../report.ts';
import type { Figure } from '../report.ts';

/** Both sync triggers installed (`on`) or dropped, online, as a rollout installs and drops them. */
async function triggers(db: Database, on: boolean): Promise<void> {
  if (on) await installSyncTriggers(db, SYNC_DIRECTIONS);
  else await dropSyncTriggers(db, SYNC_DIRECTIONS);
}

/** Rows of the bulk UPDATE: a quarter of the backfill's (50,000 by default), so the part stays within a minute. */
const bulkRows = (backfillRows: number) => Math.max(1000, Math.round(backfillRows / 4));

export const triggerPart: BenchPart<HttpContext> = {
  name: 'trigger',
  what: (options) => `SYNC=trigger vs app: v1 and v2 PUT with the sync triggers vs without; a bulk UPDATE of ${bulkRows(options.backfillRows).toLocaleString('en-US')} rows with vs without, MariaDB and SQLite`,
  plannedSeconds: (options) => httpPlan({ ...options, repeat: options.triggerRepeat }, 4) + options.triggerRepeat * 2 * 2 * (bulkRows(options.backfillRows) / 50_000 + 0.5) + 10,
  async measure(context) {
    const unsupported = syncModeUnsupported('trigger');
    if (unsupported) return unmeasured(`not measured: ${unsupported}`);
    const { fixture, v1, v2, writeIds, options, log, raw } = context;
    const runs = await alternate(
      'trigger',
      [
        { name: 'v1 app', prepare: () => triggers(fixture.db, false), measure: loadOn(context, v1, 'put', writeIds) },
        { name: 'v1 trigger', prepare: () => triggers(fixture.db, true), measure: loadOn(context, v1, 'put', writeIds) },
        { name: 'v2 app', prepare: () => triggers(fixture.db, false), measure: loadOn(context, v2, 'put', writeIds) },
        { name: 'v2 trigger', prepare: () => triggers(fixture.db, true), measure: loadOn(context, v2, 'put', writeIds) },
      ],
      { repeat: options.triggerRepeat, seconds: options.seconds, log },
    );
    await triggers(fixture.db, false);
    const presence = await syncTriggerPresence(fixture.db);
    if (presence.up !== 'absent' || presence.down !== 'absent') throw new Error(`bench trigger: the sync triggers are still there after the part (${JSON.stringify(presence)})`);

    const rows = bulkRows(options.backfillRows);
    const mariadb = await bulkUpdate(context, 'MariaDB', rows, async () => {
      const table = await context.backfill.freshTable(`bench_trigger_${process.pid}`, rows, 0);
      return { db: await connectDatabase(table.url, { poolMax: 1 }), done: async () => {} };
    });
    const sqlite = await bulkUpdate(context, 'SQLite', rows, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-trigger-'));
      const db = await connectDatabase(`sqlite:${path.join(dir, 'bench.sqlite')}`, { poolMax: 1 });
      await migrateUp(db);
      await seedOldRows(db, rows);
      return { db, done: async () => fs.rmSync(dir, { recursive: true, force: true }) };
    });
    await context.backfill.dropAll();
    raw.trigger = { http: runs, bulk: { rows, mariadb, sqlite } };

    const vs = (app: string, trigger: string, who: string): Pair => ({ runs, contenders: [app, trigger], labels: [`${who} app`, `${who} trigger`] });
    return [
      throughputFigure('triggerV1PutVsApp', 'PUT throughput, v1 with the sync triggers (SYNC=trigger) vs without (SYNC=app)', vs('v1 app', 'v1 trigger', 'v1'), null),
      p99Figure('triggerV1PutP99VsApp', 'PUT p99 latency, v1 with the sync triggers vs without', vs('v1 app', 'v1 trigger', 'v1'), null),
      cpuFigure('triggerV1PutCpuVsApp', "PUT instance CPU per request, v1 with the sync triggers vs without (the trigger's work is the database's)", vs('v1 app', 'v1 trigger', 'v1'), null),
      throughputFigure('triggerV2PutVsApp', 'PUT throughput, v2 dual-write with the sync triggers vs without', vs('v2 app', 'v2 trigger', 'v2'), null),
      p99Figure('triggerV2PutP99VsApp', 'PUT p99 latency, v2 dual-write with the sync triggers vs without', vs('v2 app', 'v2 trigger', 'v2'), null),
      bulkFigure('triggerBulkUpdateMariadb', 'MariaDB', rows, mariadb),
      bulkFigure('triggerBulkUpdateSqlite', 'SQLite', rows, sqlite),
    ];
  },
};

interface BulkRound {
  withoutMs: number;
  withMs: number;
  /** Time with the triggers over time without: how many times slower the bulk UPDATE is with them. */
  ratio: number;
}

/**
 * One table of `rows` rows (old columns only, as before the backfill), then per round the same bulk UPDATE of
 * every row's old columns without and with the triggers, in ABBA order. Checks what the triggers did: with them,
 * every row's profile_data is set; without, none is set by the UPDATE.
 */
async function bulkUpdate(context: HttpContext, label: string, rows: number, open: () => Promise<{ db: Database; done: () => Promise<void> }>): Promise<BulkRound[]> {
  const { options, log } = context;
  const { db, done } = await open();
  const [first] = mapping.oldColumns;
  const column = first!.name;
  const rounds: BulkRound[] = [];
  try {
    let pass = 0;
    const timeUpdate = async (withTriggers: boolean) => {
      await triggers(db, withTriggers);
      // Clear the new column first (not timed), so that each pass starts from rows the "up" trigger must fill.
      await db.run(`UPDATE ${mapping.table} SET ${mapping.newColumn} = NULL WHERE ${mapping.newColumn} IS NOT NULL`);
      if (options.quietSeconds > 0 && db.dialect.name !== 'sqlite') await context.backfill.quietServer(options.quietSeconds * 1000);
      pass++;
      // A different suffix each pass: every row changes, so every row fires the trigger.
      const started = performance.now();
      await db.run(`UPDATE ${mapping.table} SET ${column} = CONCAT(${column}, '${pass % 10}')`);
      const ms = performance.now() - started;
      const [{ filled }] = (await db.select<{ filled: number }>(`SELECT COUNT(*) AS filled FROM ${mapping.table} WHERE ${mapping.newColumn} IS NOT NULL`)) as [{ filled: number }];
      const expected = withTriggers ? rows : 0;
      if (Number(filled) !== expected) throw new Error(`bench trigger (${label}): after the bulk UPDATE ${withTriggers ? 'with' : 'without'} the triggers, ${filled} of ${rows} rows have ${columns.new} (expected ${expected})`);
      return ms;
    };
    for (let round = 0; round < options.triggerRepeat; round++) {
      let withoutMs = 0;
      let withMs = 0;
      const without = async () => void (withoutMs = await timeUpdate(false));
      const withTriggers = async () => void (withMs = await timeUpdate(true));
      for (const measure of round % 2 === 0 ? [without, withTriggers] : [withTriggers, without]) await measure();
      rounds.push({ withoutMs, withMs, ratio: withMs / withoutMs });
      log(`trigger bulk ${label} round ${round + 1}/${options.triggerRepeat}: ${rows} rows without ${(withoutMs / 1000).toFixed(2)} s, with the triggers ${(withMs / 1000).toFixed(2)} s (${(withMs / withoutMs).toFixed(2)}x)`);
    }
    await triggers(db, false);
  } finally {
    await db.close();
    await done();
  }
  return rounds;
}

function bulkFigure(key: string, label: string, rows: number, rounds: BulkRound[]): Figure {
  const rate = (ms: number) => `${fmt((rows * 1000) / ms)} rows/s`;
  return {
    key,
    figure: `bulk UPDATE of the old columns, ${rows.toLocaleString('en-US')} rows, ${label}: time with the sync triggers vs without (pgroll measures ~4.4x on Postgres)`,
    baseline: `without ${rate(median(rounds.map((r) => r.withoutMs)))}`,
    candidate: `with ${rate(median(rounds.map((r) => r.withMs)))}`,
    ratio: rounds.length ? median(rounds.map((r) => r.ratio)) : null,
    ...judged(rounds.map((r) => r.ratio), null),
    detail: { perRound: rounded(rounds.map((r) => r.ratio)) },
  };
}

function unmeasured(why: string): Figure[] {
  const keys = ['triggerV1PutVsApp', 'triggerV1PutP99VsApp', 'triggerV1PutCpuVsApp', 'triggerV2PutVsApp', 'triggerV2PutP99VsApp', 'triggerBulkUpdateMariadb', 'triggerBulkUpdateSqlite'];
  return keys.map((key) => ({ key, figure: `SYNC=trigger: ${key}`, baseline: '-', candidate: why, ratio: null, ...judged([], null) }));
}
