// The load generator end to end: against a real v1 instance (the history is judged clean and matches the
// database), against a fake of the same contract that resets connections (retries are counted and the history
// stays exact), against one that serves stale reads (the checker catches them), and stopped by a signal.
import { afterAll, describe, expect, it } from 'vitest';
import { check } from '../../load/proof/checker/index.ts';
import type { SnapshotRow } from '../../load/proof/checker/index.ts';
import { ordersAddressMapping } from '../../examples/orders-address/schema-mapping.ts';
import { usersMapping } from '../../examples/users.ts';
import { loadLookup, loadValueShape, lookupValuesOf, readFinalValues, runLoad } from '../../load/proof/generator.ts';
import { HistoryRecorder } from '../../load/proof/history.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import { snapshotUsers } from '../../load/run/table-snapshots.ts';
import { v1ProcessOnSqlite } from '../support/instances.ts';
import { startFakeUsersServer } from './fake-users-server.ts';
import type { FakeFaults, FakeKeys, FakeUsersServer } from './fake-users-server.ts';

const inMemory = () => new HistoryRecorder({ fields: mapping.oldColumnNames, file: null });

/** Load for `seconds`, then a final read of every user: the recorder holds everything the checker needs. */
async function loadAndReadBack(url: string, seconds: number, options: Partial<Parameters<typeof runLoad>[0]> = {}) {
  const recorder = inMemory();
  const summary = await runLoad({ url, recorder, connections: 6, durationSeconds: seconds, sharedUsers: 0.3, ...options });
  recorder.recordFinal(await readFinalValues(url, recorder.keys()));
  return { recorder, summary };
}


describe('against a real v1 instance', () => {
  const real = v1ProcessOnSqlite();

  it('When the generator runs for 3 s, then the history is non-empty, every request is answered, the checker finds 0 anomalies and the rows hold the final values', async () => {
    const { recorder, summary } = await loadAndReadBack(real.v1.url, 3);

    expect(summary.requests).toBeGreaterThan(100);
    expect(recorder.ops).toHaveLength(summary.requests);
    expect(recorder.ops.every((op) => op.version === 'v1' && op.instance)).toBe(true);
    const rows = await real.database.db.select<{ id: number; name: string | null; email: string | null; profile_data: unknown }>('SELECT id, name, email, profile_data FROM users ORDER BY id');
    const snapshotRows: SnapshotRow[] = await snapshotUsers(real.database.db);
    // v1 reads the old columns: the rows must hold exactly what the final read returned.
    expect(rows.map((r) => [String(r.id), { name: r.name, email: r.email }])).toEqual(recorder.final.map((f) => [f.key, f.value]));

    const verdict = check({ ...recorder.history(), snapshots: [{ step: 'load', takenAt: recorder.now(), v1MayBeAlive: true, rows: snapshotRows }] });
    expect(verdict).toMatchObject({ anomalies: 0, failedRequests: 0, unknownOutcomes: 0, versionsSeen: ['v1'], finalReadChecked: true });
    expect(verdict.users).toBe(rows.length);
    expect(verdict.acknowledgedWrites + verdict.reads).toBe(summary.requests);
  });
});

describe('PATCH and DELETE in the load, against a real v1 instance', () => {
  const real = v1ProcessOnSqlite();

  it('When the mix holds patches and deletes, then the history has both, the checker finds 0 anomalies, and the table holds exactly the rows and values the final read found', async () => {
    // Bounded by count, not time: a slow machine answers fewer requests in 2 s than the counts below need.
    const { recorder, summary } = await loadAndReadBack(real.v1.url, 30, { maxRequests: 400, mix: { create: 2, write: 4, patch: 4, delete: 1, read: 8 }, hotKeys: { users: 2, share: 0.2 } });

    const byKind = (f: string) => recorder.ops.filter((op) => op.f === f && op.outcome === 'ok').length;
    expect(byKind('patch')).toBeGreaterThan(10);
    expect(byKind('delete')).toBeGreaterThan(3);
    // A PATCH records the one field it set.
    expect(recorder.ops.filter((op) => op.f === 'patch').every((op) => Object.keys(op.value ?? {}).length === 1)).toBe(true);
    const rows = await real.database.db.select<{ id: number; name: string; email: string }>('SELECT id, name, email FROM users ORDER BY id');
    expect(rows.map((r) => [String(r.id), { name: r.name, email: r.email }])).toEqual(recorder.final.filter((f) => f.value !== null).map((f) => [f.key, f.value]));
    const deleted = recorder.ops.filter((op) => op.f === 'delete' && op.outcome === 'ok').map((op) => op.key);
    expect(recorder.final.filter((f) => deleted.includes(f.key)).every((f) => f.value === null)).toBe(true);

    const verdict = check({ ...recorder.history(), snapshots: [{ step: 'load', takenAt: recorder.now(), v1MayBeAlive: true, rows: await snapshotUsers(real.database.db) }] });
    expect(verdict).toMatchObject({ anomalies: 0, unknownOutcomes: 0, finalReadChecked: true });
    // The only refusals: a PUT or PATCH already in flight when another connection deleted its row (404).
    const refused = recorder.ops.filter((op) => op.outcome !== 'ok');
    expect(refused.every((op) => (op.f === 'write' || op.f === 'patch') && op.status === 404 && deleted.includes(op.key))).toBe(true);
    expect(summary.requests).toBe(recorder.ops.length);
  });
});

describe('what the load looks rows up by (loadLookup, lookupValuesOf)', () => {
  it('When the lookup value is the field itself (users: email), then the load asks by it, records it, and never refuses a value', () => {
    const byEmail = loadLookup(usersMapping.oldColumnNames, usersMapping)!;
    expect(byEmail).toMatchObject({ param: 'email', field: 'email', identity: true });
    const values = lookupValuesOf(byEmail);
    expect(values.claim({ name: 'a', email: 'a@x.test' }, { force: false })).toBe(true);
    expect(values.askable('a@x.test')).toBe('a@x.test');
  });

  it('When the lookup value is computed from a field (orders: the postcode of the address), then the load asks by it and records the address, a second address of one postcode is refused, and a postcode two values share is never asked', () => {
    const byPostcode = loadLookup(ordersAddressMapping.oldColumnNames, ordersAddressMapping)!;
    expect(byPostcode).toMatchObject({ param: 'postcode', field: 'address', identity: false });
    const [first, second, seeded, other] = ['a', 'b', 'c', 'd'].map((street) => `${street} Street 5, NW1 6XE London`);
    const values = lookupValuesOf(byPostcode);

    expect(values.claim({ recipient: 'R', address: first! }, { force: false })).toBe(true);
    expect(values.askable(first!)).toBe('NW1 6XE');
    // The load takes the next tag instead of sending a second address with that postcode.
    expect(values.claim({ recipient: 'R', address: second! }, { force: false })).toBe(false);
    expect(values.claim({ recipient: 'R2', address: first! }, { force: false })).toBe(true);
    expect(values.askable(first!)).toBe('NW1 6XE');
    // A value that is there anyway (a seed, a write made outside the load): its postcode is no longer asked.
    expect(values.claim({ recipient: 'R', address: seeded! }, { force: true })).toBe(true);
    expect([values.askable(first!), values.askable(seeded!), values.askable(other!)]).toEqual([null, null, null]);
    // An address the parser keeps whole has no postcode: found by none, never asked.
    expect(values.claim({ recipient: 'R', address: 'no postcode here' }, { force: false })).toBe(true);
    expect(values.askable('no postcode here')).toBeNull();
  });

  it('When every sample has the same lookup value (a fixed postcode), then the load sends no lookup', () => {
    const fixed = { ...ordersAddressMapping, sampleFields: (tag: string) => ({ recipient: `Recipient ${tag}`, address: `${tag} Example Street 5, 10115 Berlin` }) };
    expect(loadLookup(fixed.oldColumnNames, fixed)).toBeNull();
  });
});

describe('lookups in the load, against a real v1 instance', () => {
  const real = v1ProcessOnSqlite();

  it('When the mix holds lookups, then each asks by the email the load last wrote to a row it knows, records the rows found, finds that row, and the checker finds 0 anomalies', async () => {
    const { recorder, summary } = await loadAndReadBack(real.v1.url, 30, { maxRequests: 400, mix: { create: 2, write: 4, patch: 2, delete: 1, read: 4, lookup: 4 }, hotKeys: { users: 2, share: 0.2 } });

    const lookups = recorder.ops.filter((op) => op.f === 'lookup');
    expect(lookups.filter((op) => op.outcome === 'ok').length).toBeGreaterThan(10);
    const hot = new Set(summary.hotUsers);
    for (const op of lookups) {
      expect(Object.keys(op.value ?? {})).toEqual([mapping.lookup!.param]);
      expect(op.key !== null && !hot.has(op.key)).toBe(true);
      // The value asked for is one the load wrote to that row (a write, a create or a patch of it).
      const asked = op.value![mapping.lookup!.param];
      expect(recorder.ops.some((w) => w.key === op.key && w.f !== 'read' && w.f !== 'lookup' && w.value?.[mapping.lookup!.param] === asked && w.invokeAt < op.invokeAt)).toBe(true);
    }
    // One connection at a time per row mostly: most lookups find the row they were made for, with the value asked.
    const foundTarget = lookups.filter((op) => op.found?.some((row) => row.key === op.key && row.value[mapping.lookup!.param] === op.value![mapping.lookup!.param]));
    expect(foundTarget.length).toBeGreaterThan(lookups.length / 2);
    const verdict = check({ ...recorder.history(), snapshots: [{ step: 'load', takenAt: recorder.now(), v1MayBeAlive: true, rows: await snapshotUsers(real.database.db) }] });
    expect(verdict).toMatchObject({ anomalies: 0, unknownOutcomes: 0, finalReadChecked: true });
  });

  it('When the mix has no lookup weight (the default), then the load makes no lookup', async () => {
    const { recorder } = await loadAndReadBack(real.v1.url, 0.5);
    expect(recorder.ops.length).toBeGreaterThan(10);
    expect(recorder.ops.filter((op) => op.f === 'lookup')).toEqual([]);
  });
});

describe('against a fake of the contract', () => {
  const servers: FakeUsersServer[] = [];
  const fake = async (faults: FakeFaults, keys: FakeKeys = {}) => {
    const server = await startFakeUsersServer(faults, keys);
    servers.push(server);
    return server.url;
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('When connections are reset before or after a request is handled, then GETs and PUTs are retried once, counted, and the history is still judged clean', async () => {
    const url = await fake({ resetBeforeEvery: 17, resetAfterPutEvery: 5 });
    const { recorder, summary } = await loadAndReadBack(url, 1);
    const verdict = check(recorder.history());

    expect(verdict.anomalies).toBe(0);
    expect(summary.retries).toBeGreaterThan(0);
    expect(verdict.retries).toBe(summary.retries);
    expect(verdict.unknownOutcomes).toBeGreaterThan(0);
    const retries = recorder.ops.filter((op) => op.retryOf !== undefined);
    for (const retry of retries) {
      const original = recorder.ops.find((op) => op.id === retry.retryOf)!;
      expect(retry).toMatchObject({ retries: 1, f: original.f, key: original.key, process: original.process });
      expect(original.outcome).toBe(original.f === 'read' ? 'fail' : 'info');
      // A retried PUT writes a fresh value: every write in the history stays unique.
      if (retry.f === 'write') expect(retry.value).not.toEqual(original.value);
    }
    const written = recorder.ops.filter((op) => op.value && op.f !== 'read').map((op) => op.value!.name);
    expect(new Set(written).size).toBe(written.length);
  });

  it('When a server answers reads one write behind, then the checker flags stale reads and names the fake instance', async () => {
    const url = await fake({ staleReads: true });
    const { recorder } = await loadAndReadBack(url, 0.6, { mix: { create: 1, write: 5, read: 5 } });
    const verdict = check(recorder.history());

    expect(verdict.byKind.stale).toBeGreaterThan(0);
    expect(verdict.examples.stale[0]!.ops[0]).toMatchObject({ f: 'read', version: 'fake', instance: 'fake-1' });
  });

  it('When a server answers PATCH 200 but applies nothing, then the checker flags the patched field as stale or lost', async () => {
    const url = await fake({ dropPatches: true });
    const { recorder } = await loadAndReadBack(url, 1.5, { mix: { create: 1, write: 2, patch: 4, read: 8 } });
    const verdict = check(recorder.history());
    expect(verdict.byKind.stale + verdict.byKind.lost).toBeGreaterThan(0);
    expect([...verdict.examples.stale, ...verdict.examples.lost].every((example) => example.field !== undefined)).toBe(true);
  });

  it('When a server answers DELETE 204 but keeps the row, then the checker flags reads after the delete as resurrected', async () => {
    const url = await fake({ keepDeleted: true });
    const { recorder } = await loadAndReadBack(url, 1.5, { mix: { create: 1, write: 2, delete: 2, read: 8 } });
    const verdict = check(recorder.history());
    expect(verdict.byKind.lost).toBeGreaterThan(0);
    expect(verdict.examples.lost[0]!.reason).toBe('the row was deleted, but the final read found it again (resurrected)');
  });

  it('When a server answers lookups from the values before each row\'s last write (an index nobody updated), then the checker flags lookups that miss their row or find it by an old value', async () => {
    const url = await fake({ staleLookups: true });
    const { recorder } = await loadAndReadBack(url, 1.5, { mix: { create: 1, write: 4, read: 2, lookup: 6 } });
    const verdict = check(recorder.history());
    const byLookup = [...verdict.examples.stale, ...verdict.examples.garbage].filter((example) => example.ops[0]?.f === 'lookup');
    expect(byLookup.length).toBeGreaterThan(0);
    expect(byLookup.map((example) => example.reason)).toContain('missed by a lookup: the row was not in the answer, though the write of the value asked for took effect before the lookup began and nothing could have changed it since');
  });

  it('When a server answers lookups correctly, then the checker finds 0 anomalies', async () => {
    const url = await fake({});
    const { recorder } = await loadAndReadBack(url, 1, { mix: { create: 1, write: 4, patch: 2, read: 2, lookup: 6 } });
    expect(recorder.ops.filter((op) => op.f === 'lookup' && op.outcome === 'ok').length).toBeGreaterThan(10);
    expect(check(recorder.history()).anomalies).toBe(0);
  });

  it('When the stop signal fires, then the load stops long before its duration and leaves no request unanswered', async () => {
    const url = await fake({});
    const controller = new AbortController();
    const recorder = inMemory();
    setTimeout(() => controller.abort(), 500);
    const summary = await runLoad({ url, recorder, connections: 4, durationSeconds: 60, timeoutSeconds: 2, signal: controller.signal });

    expect(summary.stoppedBy).toBe('signal');
    // Asked to run 60 s: a load that ignored the signal would run them all. A third of that is a bound any machine
    // 3x slower than this one meets (signal at 0.5 s, drain bounded by the 2 s request timeout), not a speed test.
    expect(summary.elapsedMs).toBeLessThan(20_000);
    expect(recorder.pending()).toEqual([]);
    expect(check(recorder.history())).toMatchObject({ anomalies: 0, failedRequests: 0, unknownOutcomes: 0 });
  });

  it('When users exist before the load, then they are loaded too and judged from their values before the load', async () => {
    const url = await fake({});
    const recorder = inMemory();
    const existing = await Promise.all(
      [1, 2, 3, 4].map(async (n) => {
        const value = { name: `existing-${n}`, email: `existing-${n}@example.test` };
        const response = await fetch(`${url}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
        return { key: String(((await response.json()) as { id: number }).id), value };
      }),
    );
    recorder.recordInitial(existing);
    await runLoad({ url, recorder, connections: 2, durationSeconds: 0.5, mix: { create: 0, write: 1, read: 1 }, existingUsers: existing.map((u) => u.key) });
    recorder.recordFinal(await readFinalValues(url, recorder.keys()));

    expect(new Set(recorder.ops.map((op) => op.key))).toEqual(new Set(existing.map((u) => u.key)));
    expect(check(recorder.history())).toMatchObject({ anomalies: 0, users: 4 });
  });

  it('When the server answers creates with UUID string ids, then the generator reads and writes /users/<uuid>, the history holds those keys, and every value keeps the load\'s short shape', async () => {
    const url = await fake({}, { uuidKeys: true });
    const server = servers.at(-1)!;
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const { recorder } = await loadAndReadBack(url, 0.5, { connections: 2, mix: { create: 1, write: 2, read: 2 } });

    const keys = recorder.keys();
    expect(keys.length).toBeGreaterThan(1);
    expect(keys.every((key) => uuid.test(key))).toBe(true);
    const keyed = recorder.ops.filter((op) => op.f !== 'create');
    expect(keyed.length).toBeGreaterThan(0);
    expect(keyed.every((op) => op.key !== null && keys.includes(op.key))).toBe(true);
    // Every request by key went to /users/<one of the keys the creates answered>.
    const byKey = server.requests.filter((request) => !/^POST \/users$/.test(request));
    expect(byKey.length).toBeGreaterThan(0);
    for (const request of byKey) expect(keys).toContain(/^(?:GET|PUT) \/users\/(.+)$/.exec(request)?.[1]);
    // A write's tag names a UUID key by its short alias, never the key itself: values stay short and of the load's shape.
    const shape = loadValueShape()!;
    for (const op of recorder.ops.filter((o) => o.f === 'write')) {
      expect(op.value!.name).toMatch(/k\d+-w\d+/);
      expect(Object.entries(shape).every(([field, pattern]) => pattern.test(op.value![field]!))).toBe(true);
    }
    expect(recorder.final.map((read) => read.key)).toEqual(keys);
    expect(check(recorder.history())).toMatchObject({ anomalies: 0, users: keys.length });
  });

  it('When the target is not 127.0.0.1, then the generator refuses to start', async () => {
    await expect(runLoad({ url: 'http://example.com:80', recorder: inMemory(), durationSeconds: 1 })).rejects.toThrow(/127\.0\.0\.1/);
  });
});
