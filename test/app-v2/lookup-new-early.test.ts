// The anti-pattern lookup-new-early (app-v2/anti-patterns.ts): v2 serves lookups through the index over the new
// column before stage live, while v1 still writes the old columns only. A row v1 changed is missed by its new
// email and found, with stale fields, by its old one. Real v1 and v2 apps on one database; every request goes into
// a history as the load records it, and the checker must flag the anti-pattern's lookups and pass the correct v2's.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check } from '../../load/proof/checker/index.ts';
import { answeredValue, createdKey, historyValue, HistoryRecorder, outcomeOfStatus } from '../../load/proof/history.ts';
import type { OpKind, RecordValue } from '../../load/proof/history.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import { databaseTargets, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { inProcessApp } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';

const targets = await databaseTargets();

/** Records each request as the load generator would: invoked, then completed with what came back. */
function recordedClient(recorder: HistoryRecorder) {
  const fields = recorder.fields;
  return async (app: InProcessApp, f: OpKind, key: string | null, value?: RecordValue): Promise<string | null> => {
    const op = recorder.invoke({ process: 0, f, key, ...(value ? { value } : {}) });
    const route = mapping.route;
    const answer =
      f === 'create'
        ? await request(app.app).post(route).send(value!)
        : f === 'write'
          ? await request(app.app).put(`${route}/${key}`).send(value!)
          : f === 'patch'
            ? await request(app.app).patch(`${route}/${key}`).send(value!)
            : f === 'lookup'
              ? await request(app.app).get(route).query(value!)
              : await request(app.app).get(`${route}/${key}`);
    const body = answer.body as Record<string, unknown>;
    const outcome = outcomeOfStatus(f, answer.status, (body.error as { code?: string } | undefined)?.code);
    recorder.complete(op, {
      outcome,
      status: answer.status,
      version: answer.headers['x-app-version'],
      readSource: answer.headers['x-read-source'],
      ...(f === 'create' ? { key: createdKey(body) ?? undefined } : {}),
      ...(f === 'read' && answer.status === 200 ? { value: answeredValue(fields, body) } : {}),
      ...(f === 'lookup' && answer.status === 200 ? { found: (body.items as Array<Record<string, unknown>>).map((item) => ({ key: createdKey(item)!, value: answeredValue(fields, item) })) } : {}),
    });
    return f === 'create' ? createdKey(body) : key;
  };
}

describe.each(targets)('lookup-new-early on $name', (target) => {
  let database: TestDatabase;
  let v1: InProcessApp;
  let v2: InProcessApp;
  let early: InProcessApp;
  beforeAll(async () => {
    if (target.skip) return;
    database = await target.create();
    v1 = await inProcessApp('v1', database.db);
    v2 = await inProcessApp('v2', database.db);
    early = await inProcessApp('v2', database.db, { ANTI_PATTERN: 'lookup-new-early' });
  });
  afterAll(async () => {
    await Promise.all([v1, v2, early].map((app) => app?.close()));
    await database?.drop();
  });

  /**
   * v2 creates rows, v1 then writes some and patches others' email (old columns only: profile_data keeps the email
   * v2 wrote), and `through` answers a lookup of each row by the email last written, and by the one before.
   */
  async function historyThrough(through: () => InProcessApp) {
    const recorder = new HistoryRecorder({ fields: mapping.oldColumnNames, file: null });
    const send = recordedClient(recorder);
    const sample = (label: string) => historyValue(recorder.fields, mapping.sampleFields(unique(label), `${unique('d')}.example.test`));
    for (let i = 0; i < 3; i++) {
      const first = sample('created');
      const key = (await send(v2, 'create', null, first))!;
      const changed = i === 2 ? { ...first, email: sample('patched').email! } : sample('written');
      await send(v1, i === 2 ? 'patch' : 'write', key, i === 2 ? { email: changed.email! } : changed);
      await send(v2, 'read', key);
      await send(through(), 'lookup', key, { email: changed.email! });
      await send(through(), 'lookup', key, { email: first.email! });
    }
    return recorder.history();
  }

  it.skipIf(target.skip)('When v2 answers lookups through the new column\'s index before live, then the checker flags each row v1 changed: missed by its new email (stale), found with stale fields by its old one', async () => {
    const history = await historyThrough(() => early);
    const verdict = check(history);

    const missed = verdict.examples.stale.filter((example) => example.reason.startsWith('missed by a lookup'));
    expect(missed.map((example) => example.ops[0]!.version)).toEqual(['v2', 'v2', 'v2']);
    expect(verdict.byKind.stale).toBeGreaterThanOrEqual(6);
    expect(verdict.byKind).toMatchObject({ garbage: 0, lost: 0, phantom: 0 });
    expect(history.ops.filter((op) => op.f === 'lookup').every((op) => op.readSource === 'new')).toBe(true);
  });

  it.skipIf(target.skip)('When the correct v2 answers the same lookups before live, then the checker finds no anomaly', async () => {
    const history = await historyThrough(() => v2);
    const verdict = check(history);

    expect(verdict.anomalies).toBe(0);
    const lookups = history.ops.filter((op) => op.f === 'lookup');
    expect(lookups).toHaveLength(6);
    // By the email last written each row is found; by the one v1 replaced, none is.
    expect(lookups.map((op) => op.found!.length)).toEqual([1, 0, 1, 0, 1, 0]);
    expect(lookups.every((op) => op.readSource === 'old')).toBe(true);
  });
});
