// The backfill and verify for a mapping only code can transform, over keys the app assigns
// (examples/orders-address: orders.address -> shipping_address by an address parser, UUID keys): the backfill
// walks the UUIDs in the database's order (keyset pagination), reads each batch, parses in code and writes each
// row with a compare-and-set on the bytes it read; verify judges each row in code. MAPPING=orders-address is set
// before anything is imported (vi.hoisted; vitest runs each file in its own process), so the migrations build
// the orders table. One database per dialect for the whole file (each test starts from an empty table).
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.MAPPING = 'orders-address';
});

import { ordersAddressMapping, parseAddress } from '../../examples/orders-address/schema-mapping.ts';
import { appSideBackfill } from '../../shared/backfill/app-side.ts';
import { runBackfill } from '../../shared/backfill/backfill.ts';
import { backfillRuns } from '../../shared/backfill/checkpoint.ts';
import { fixedControls } from '../../shared/backfill/controls.ts';
import { silentProgress } from '../../shared/backfill/progress.ts';
import type { ProgressReporter } from '../../shared/backfill/progress.ts';
import type { RepairScope } from '../../shared/backfill/repair-scope.ts';
import type { Database } from '../../shared/db/connection.ts';
import { usersRepository } from '../../shared/db/users-repository.ts';
import type { Fields, Key, SchemaMapping } from '../../shared/mapping-contract.ts';
import { mapping as activeMapping } from '../../shared/schema-mapping.ts';
import { undecidableRows } from '../../shared/rollout/way-back.ts';
import { runVerify } from '../../shared/verify/verify.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';

const mapping = ordersAddressMapping;
const targets = await databaseTargets();
/** One recipient for every order here: the backfill's subject is the address, which only code can parse. */
const RECIPIENT = 'Ada Lovelace';
const order = (address: string): Fields => ({ recipient: RECIPIENT, address });
const shipOf = (address: string) => ({ recipient: RECIPIENT, ...parseAddress(address) });

/** `count` orders as v1 writes them (address only); every 7th address is one the parser keeps whole. */
async function seedOrders(db: Database, count: number): Promise<Map<Key, string>> {
  const orders = usersRepository(db, mapping);
  const label = unique('order');
  const all = Array.from({ length: count }, (_, i): Fields => order(i % 7 === 0 ? `${label} PO Box ${i}` : `${label} Example Street ${i}, 10115 Berlin`));
  const seeded = new Map<Key, string>();
  for (let start = 0; start < all.length; start += orders.maxRowsPerInsert()) {
    const rows = all.slice(start, start + orders.maxRowsPerInsert());
    const keys = await orders.insertMany(rows);
    keys.forEach((key, i) => seeded.set(key, rows[i]!.address!));
  }
  return seeded;
}

/** Every order's address and parsed shipping_address (null when NULL), by key. */
async function ordersByKey(db: Database): Promise<Map<Key, { address: string | null; shipping: unknown }>> {
  const rows = await db.select<{ id: string; address: string | null; shipping_address: unknown }>('SELECT id, address, shipping_address FROM orders');
  const parsed = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);
  return new Map(rows.map((r) => [r.id, { address: r.address, shipping: parsed(r.shipping_address) }]));
}

const backfill = (db: Database, options: { batch?: number; sleepMs?: number } = {}, deps: { signal?: AbortSignal; progress?: ProgressReporter } = {}) =>
  // Paced by sleepMs only: the default rest (--nice-ratio) is there for a live database's p99, not tested here.
  runBackfill(db, { direction: 'forward', batch: options.batch ?? 200, sleepMs: options.sleepMs ?? 0, niceRatio: 0, mapping }, { controls: fixedControls(), progress: deps.progress ?? silentProgress(), signal: deps.signal });

describe('the orders mapping', () => {
  it('When MAPPING=orders-address is set at start, then it is the active mapping, with UUID keys and no SQL form', () => {
    expect(activeMapping).toBe(mapping);
    expect(mapping).toMatchObject({ keyType: 'uuid', sql: null });
  });
});

describe.each(targets)('app-side backfill and verify over UUID keys on $name', (target) => {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    if (!target.skip) database = await target.create();
  });
  afterAll(async () => {
    await database?.drop();
  });
  beforeEach(async () => {
    if (!database) return;
    await database.db.run('DELETE FROM orders');
    await database.db.run('DELETE FROM backfill_runs');
  });

  it.skipIf(target.skip)(
    'When the orders backfill runs (code-only transform, UUID keys), then every row\'s shipping_address is parseAddress(address), and verify then counts 0 drift',
    async () => {
      const { db } = database!;
      const seeded = await seedOrders(db, 800);
      const before = await runVerify(db, { mode: 'dual', owner: 'test', mapping, chunk: 300 });

      const summary = await backfill(db, { batch: 200 });
      const after = await runVerify(db, { mode: 'dual', owner: 'test', mapping, chunk: 300 });

      expect(before).toMatchObject({ rowsChecked: 800, missing: 800, drift: 800 });
      expect(summary).toMatchObject({ unit: 'rows', keys: 800, rowsChanged: 800, batches: 4, interrupted: false, rowRetries: 0 });
      const [first, last] = [...seeded.keys()].sort((a, b) => (String(a) < String(b) ? -1 : 1)).filter((_, i, all) => i === 0 || i === all.length - 1);
      expect(summary.stringKeys).toEqual({ start: first, end: last, done: last });
      const rows = await ordersByKey(db);
      for (const [key, address] of seeded) expect(rows.get(key), `order ${key}`).toEqual({ address, shipping: shipOf(address) });
      expect(after).toMatchObject({ rowsChecked: 800, drift: 0, sample: [], keyRange: { start: first, end: last } });
    },
    30_000,
  );

  it.skipIf(target.skip)(
    'When a mapping with a SQL form has UUID keys, then the SQL backfill and verify walk them in keyset batches and fill every row',
    async () => {
      const { db } = database!;
      const seeded = await seedOrders(db, 500);
      // The orders table with a transform SQL can run: every address kept whole (a form parseNew accepts).
      const json = db.dialect.name === 'sqlite' ? 'json_object' : 'JSON_OBJECT';
      const withSql: SchemaMapping = {
        ...mapping,
        sql: {
          newFromOldSql: (_dialect, old = (column) => column) => `${json}('recipient', ${old('recipient')}, 'street', ${old('address')}, 'postcode', NULL, 'city', NULL)`,
          newValidSql: (_dialect, column = mapping.newColumn) => `(${column} IS NOT NULL)`,
          oldFromNewSql: (dialect, column = mapping.newColumn) => ({
            recipient: dialect.name === 'sqlite' ? `json_extract(${column}, '$.recipient')` : `JSON_VALUE(${column}, '$.recipient')`,
            address: dialect.name === 'sqlite' ? `json_extract(${column}, '$.street')` : `JSON_VALUE(${column}, '$.street')`,
          }),
        },
      };

      const summary = await runBackfill(db, { direction: 'forward', batch: 120, mapping: withSql }, { controls: fixedControls(), progress: silentProgress() });
      const verify = await runVerify(db, { mode: 'dual', owner: 'test', mapping: withSql, chunk: 150 });
      const rows = await ordersByKey(db);

      expect(summary).toMatchObject({ unit: 'rows', keys: 500, rowsChanged: 500, batches: 5 });
      for (const [key, address] of seeded) expect(rows.get(key), `order ${key}`).toEqual({ address, shipping: { recipient: RECIPIENT, street: address, postcode: null, city: null } });
      expect(verify).toMatchObject({ rowsChecked: 500, drift: 0 });
    },
  );

  it.skipIf(target.skip)(
    'When writers update rows concurrently with the app-side backfill, then no write is overwritten: every row ends with its last written value in both columns',
    async () => {
      const { db } = database!;
      const seeded = await seedOrders(db, 800);
      const orders = usersRepository(db, mapping);
      const keys = [...seeded.keys()];
      /** Each row's last written address, and whether the write set shipping_address too (updateBoth). */
      const last = new Map<Key, { address: string; both: boolean }>(keys.map((key) => [key, { address: seeded.get(key)!, both: false }]));

      let running = true;
      const run = backfill(db, { batch: 40, sleepMs: 2 }).finally(() => (running = false));
      let writes = 0;
      for (let op = 0; running; op++) {
        const key = keys[(op * 7919) % keys.length]!;
        const address = `written ${op} Side Road ${op}, ${op % 2 === 0 ? '10115 Berlin' : 'NW1 6XE London'}`;
        if (op % 2 === 0) await orders.updateBoth(key, order(address), mapping.newJson(order(address)));
        else await orders.updateOld(key, order(address));
        last.set(key, { address, both: op % 2 === 0 });
        writes += 1;
      }
      const summary = await run;
      const afterFirst = await ordersByKey(db);
      await backfill(db);
      const rows = await ordersByKey(db);
      const verify = await runVerify(db, { mode: 'dual', owner: 'test', mapping });

      expect(writes).toBeGreaterThan(20);
      expect(summary.interrupted).toBe(false);
      for (const [key, { address, both }] of last) {
        // The backfill never writes address, and never puts an older parse over an updateBoth's shipping_address.
        expect(afterFirst.get(key)!.address, `address of ${key} after the concurrent run`).toBe(address);
        if (both) expect(afterFirst.get(key)!.shipping, `shipping_address of ${key}, last written by updateBoth`).toEqual(shipOf(address));
        expect(rows.get(key), `order ${key} after a second run`).toEqual({ address, shipping: shipOf(address) });
      }
      expect(verify.drift).toBe(0);
    },
    30_000,
  );

  it.skipIf(target.skip)(
    'When a row is written between the backfill\'s read and its write, then the compare-and-set misses, the row is read again, and the newer value wins',
    async () => {
      const { db } = database!;
      const seeded = await seedOrders(db, 3);
      const [inSync, stale, untouched] = [...seeded.keys()] as [Key, Key, Key];
      const orders = usersRepository(db, mapping);
      const batch = appSideBackfill(db.dialect, mapping, 'forward');
      const fixes = await batch.read(db, { lower: '0', lowerExclusive: false, upper: 'g' });
      // Between the read and the write: v2 writes both columns of one row, v1 only the address of another.
      await orders.updateBoth(inSync, order('v2 Way 1, 75001 Paris'), mapping.newJson(order('v2 Way 1, 75001 Paris')));
      await orders.updateOld(stale, order('v1 Lane 2, 1010 Wien'));

      const result = await db.transaction((tx) => batch.write(tx, fixes));
      const rows = await ordersByKey(db);

      expect(fixes.map((fix) => fix.key).sort()).toEqual([inSync, stale, untouched].sort());
      expect(result).toEqual({ changed: 2, rowRetries: 2, rowsLeft: 0 });
      expect(rows.get(inSync)).toEqual({ address: 'v2 Way 1, 75001 Paris', shipping: shipOf('v2 Way 1, 75001 Paris') });
      expect(rows.get(stale)).toEqual({ address: 'v1 Lane 2, 1010 Wien', shipping: shipOf('v1 Lane 2, 1010 Wien') });
      expect(rows.get(untouched)).toEqual({ address: seeded.get(untouched), shipping: shipOf(seeded.get(untouched)!) });
    },
  );

  it.skipIf(target.skip)(
    'When the app-side backfill is stopped mid-run and run again, then it resumes after its checkpoint\'s key and ends with the same result, each row changed once',
    async () => {
      const { db } = database!;
      const seeded = await seedOrders(db, 1000);
      const runs = backfillRuns(db);
      const stop = new AbortController();
      // Stopped (the SIGINT path) once 400 rows are done: the batch in flight commits, the run stays resumable.
      const stopping: ProgressReporter = { ...silentProgress(), update: (snapshot) => (snapshot.nextId > 400 ? stop.abort() : undefined) };

      const first = await backfill(db, { batch: 100 }, { signal: stop.signal, progress: stopping });
      const checkpoint = (await runs.unfinished())!;
      const notes: string[] = [];
      const second = await backfill(db, { batch: 100 }, { progress: { ...silentProgress(), note: (line) => notes.push(line) } });
      const rows = await ordersByKey(db);

      expect(first).toMatchObject({ interrupted: true, nextId: 401, rowsChanged: 400 });
      expect(checkpoint).toMatchObject({ status: 'running', nextId: 401, rowsChanged: 400, stringKeys: { done: first.stringKeys!.done } });
      expect(second).toMatchObject({ runId: checkpoint.id, interrupted: false, resumedFrom: checkpoint.stringKeys!.done, keys: 600, rowsChanged: 1000 });
      expect(notes[0]).toBe(`resuming backfill run #${checkpoint.id} (forward) after key ${checkpoint.stringKeys!.done} of ${checkpoint.stringKeys!.start}..${checkpoint.stringKeys!.end} (row 401 of ~1000)`);
      expect(await runs.byId(checkpoint.id)).toMatchObject({ status: 'done', nextId: 1001, rowsChanged: 1000 });
      for (const [key, address] of seeded) expect(rows.get(key), `order ${key}`).toEqual({ address, shipping: shipOf(address) });
    },
    30_000,
  );

  it.skipIf(target.skip)(
    'When the reverse app-side backfill runs, then it fills the address of rows written in new-only, and copies a differing row back only when the scope proves its shipping_address newer',
    async () => {
      const { db } = database!;
      const seeded = await seedOrders(db, 4);
      await backfill(db);
      const orders = usersRepository(db, mapping);
      const [differing, inSync] = [...seeded.keys()] as [Key, Key];
      const newOnly = await orders.insertNewOnly(mapping.newJson(order('New Row 1, 10115 Berlin')));
      const invalidNewOnly = await orders.insertNewOnly('{"street": 1}');
      await orders.updateNew(differing, mapping.newJson(order('Moved Lane 9, NW1 6XE London')));
      const reverse = (scope?: RepairScope) => runBackfill(db, { direction: 'reverse', batch: 2, mapping, scope }, { controls: fixedControls(), progress: silentProgress() });

      // No window where shipping_address may be newer: only the rows with no address at all are filled.
      const narrow = await reverse({ forwardDifferent: false, profileNewer: null, lateV1: [] });
      const afterNarrow = await ordersByKey(db);
      const wide = await reverse();
      const rows = await ordersByKey(db);

      expect(narrow).toMatchObject({ rowsChanged: 1, unit: 'rows' });
      expect(afterNarrow.get(newOnly)!.address).toBe('New Row 1, 10115 Berlin');
      expect(afterNarrow.get(differing)!.address).toBe(seeded.get(differing));
      expect(wide).toMatchObject({ rowsChanged: 1 });
      expect(rows.get(differing)).toEqual({ address: 'Moved Lane 9, NW1 6XE London', shipping: shipOf('Moved Lane 9, NW1 6XE London') });
      expect(rows.get(inSync)!.address).toBe(seeded.get(inSync));
      expect(rows.get(invalidNewOnly)).toEqual({ address: null, shipping: { street: 1 } });
    },
  );

  it.skipIf(target.skip)(
    'When a differing row was last written while both a late v1 and new-only could write, then the way back lists its UUID as undecidable and the reverse backfill leaves it',
    async () => {
      const { db } = database!;
      const seeded = await seedOrders(db, 3);
      await backfill(db);
      const [differing] = [...seeded.keys()].sort() as [Key];
      await usersRepository(db, mapping).updateNew(differing, mapping.newJson(order('Moved Lane 9, NW1 6XE London')));
      const always = { from: '1970-01-01 00:00:00.000', to: null };
      const scope: RepairScope = { forwardDifferent: false, profileNewer: always, lateV1: [always] };

      const undecidable = await undecidableRows(db, scope, 10, mapping);
      const reverse = await runBackfill(db, { direction: 'reverse', mapping, scope }, { controls: fixedControls(), progress: silentProgress() });

      expect(undecidable).toEqual({ count: 1, ids: [differing] });
      expect(reverse.rowsChanged).toBe(0);
      expect((await ordersByKey(db)).get(differing)!.address).toBe(seeded.get(differing));
    },
  );

  it.skipIf(target.skip)(
    'When verify runs over a table with drifted rows (missing, invalid JSON, a different address), then it counts each kind and samples the UUID keys',
    async () => {
      const { db } = database!;
      const seeded = await seedOrders(db, 30);
      await backfill(db);
      const [missing, wrongShape, halfSplit, otherCity, trailingSpace] = [...seeded.keys()].sort() as Key[];
      const set = (key: Key | undefined, json: string | null) => db.update('UPDATE orders SET shipping_address = $1 WHERE id = $2', [json, key!]);
      await set(missing, null);
      await set(wrongShape, '{"street": 5, "postcode": null, "city": null}');
      await set(halfSplit, '{"street": "Main St 1", "postcode": "10115", "city": null}');
      await db.update('UPDATE orders SET address = $1 WHERE id = $2', ['Elm St 3, 10115 berlin', otherCity!]);
      await set(otherCity, mapping.newJson(order('Elm St 3, 10115 Berlin')));
      // Byte for byte, never a collation: a trailing space differs (utf8mb4_bin would call them equal).
      await db.update('UPDATE orders SET address = $1 WHERE id = $2', ['Elm St 4 ', trailingSpace!]);
      await set(trailingSpace, mapping.newJson(order('Elm St 4')));

      const dual = await runVerify(db, { mode: 'dual', owner: 'test', mapping, chunk: 7 });
      const newOnly = await runVerify(db, { mode: 'new-only', owner: 'test', mapping, chunk: 7 });

      expect(dual).toMatchObject({ rowsChecked: 30, missing: 1, invalid: 2, different: 2, drift: 5 });
      expect(dual.sample).toEqual([
        { id: missing, reason: 'missing', fields: [] },
        { id: wrongShape, reason: 'invalid', fields: [] },
        { id: halfSplit, reason: 'invalid', fields: [] },
        { id: otherCity, reason: 'different', fields: ['address'] },
        { id: trailingSpace, reason: 'different', fields: ['address'] },
      ]);
      expect(newOnly).toMatchObject({ rowsChecked: 30, missing: 1, invalid: 2, different: 0, drift: 3 });
      expect(newOnly.sample.map((s) => s.id)).toEqual([missing, wrongShape, halfSplit]);
    },
  );
});
