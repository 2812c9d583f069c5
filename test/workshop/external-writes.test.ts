// Writes by hand in the sandbox (an attendee's curl or UPDATE): nobody records them as they happen, so the live
// checker used to call every read of their value garbage. The sandbox now spots such a value as the read
// completes (a name or an email the load never writes, not the seed either), records an external write for it in
// the history, lists it, and puts the anomalies found after it next to it. Judged here through the recorder and the
// live checker the sandbox uses, on a history with a clock the test drives; make workshop with a real UPDATE is
// test/workshop/sandbox.full.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check } from '../../load/proof/checker/index.ts';
import { LiveChecker } from '../../load/observe/live-checker.ts';
import { HistoryRecorder, readHistory } from '../../load/proof/history.ts';
import type { RecordValue } from '../../load/proof/history.ts';
import { FIELDS } from '../load/histories.ts';
import { attribute, describeAttributed } from '../../load/workshop/attribution.ts';
import { BY_HAND, ExternalWrites } from '../../load/workshop/external-writes.ts';
import { loadValueShape } from '../../load/proof/generator.ts';
import { ordersAddressMapping } from '../../examples/orders-address/schema-mapping.ts';
import { splitNameMapping } from '../../examples/split-name/schema-mapping.ts';
import { defineMapping } from '../../shared/mapping-contract.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'external-writes-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const load = (tag: string) => ({ name: `u1-${tag}`, email: `u1-${tag}@r0a1b2c.example.test` });
const seeded: RecordValue = { name: 'seed1', email: 'seed1@example.test' };

/**
 * One user's history as the sandbox records it: seeded, written by the load, then changed by hand (UPDATE of the
 * name only) and read, overwritten by the load, and one torn read (the name of one load write, the email of the
 * next: the load's own values, a real anomaly). With `spot`, the sandbox's watcher is on.
 */
function sandboxHistory(file: string, spot: boolean) {
  let now = 0;
  let external: ExternalWrites | undefined;
  const recorder = new HistoryRecorder({ fields: FIELDS, file, step: 'sandbox', clock: () => now, ...(spot ? { onComplete: (op) => external!.observe(op) } : {}) });
  external = new ExternalWrites(recorder, (at) => at / 1000);
  external.seed([{ key: '1', value: seeded }]);
  recorder.recordInitial([{ key: '1', value: seeded }]);
  const op = (f: 'write' | 'read', value: RecordValue) => {
    now += 10;
    const invoked = recorder.invoke({ process: 0, f, key: '1', ...(f === 'write' ? { value } : {}) });
    now += 5;
    recorder.complete(invoked, { outcome: 'ok', status: 200, ...(f === 'read' ? { value } : {}) });
  };
  op('read', seeded);
  op('write', load('w1'));
  op('read', load('w1'));
  const byHand = { name: 'written by hand', email: load('w1').email };
  op('read', byHand);
  op('read', byHand);
  op('write', load('w2'));
  op('read', load('w2'));
  op('read', { name: load('w1').name, email: load('w2').email });
  const live = new LiveChecker(recorder);
  live.update();
  return { recorder, external, live };
}

describe('make workshop: writes by hand', () => {
  it('When a read returns a value the load never wrote, then it is recorded once as an external write, and only the torn read is an anomaly', async () => {
    const file = path.join(dir, 'spotted.jsonl');
    const { recorder, external, live } = sandboxHistory(file, true);

    expect(external.seen).toHaveLength(1);
    expect(external.seen[0]).toMatchObject({ key: '1', value: { name: 'written by hand' }, at: 0.06 });
    expect(live.byKind()).toMatchObject({ garbage: 1, stale: 0, nonMonotonic: 0 });
    expect(live.timeline()[0]!.message).toContain('u1-w1');
    // The history file says the same to anyone who judges it later (npm run check).
    await recorder.close();
    const history = readHistory(file);
    expect(history.ops.filter((o) => o.external === BY_HAND)).toMatchObject([{ f: 'write', key: '1', value: { name: 'written by hand' }, outcome: 'ok', completeAt: 60 }]);
    expect(check(history).byKind).toMatchObject({ garbage: 1, stale: 0, nonMonotonic: 0 });
  });

  it('When nothing spots writes by hand, then their reads are anomalies (what the sandbox reported before)', async () => {
    const { recorder, live } = sandboxHistory(path.join(dir, 'unspotted.jsonl'), false);
    expect(live.byKind().garbage).toBe(3);
    await recorder.close();
  });

  it('When an anomaly is found after a write by hand, then it is shown next to that write, not to an earlier action', async () => {
    const { recorder, external, live } = sandboxHistory(path.join(dir, 'attributed.jsonl'), true);
    const events = [{ id: 1, atMs: 20, title: 'rollout advance' }, ...external.seen.map((e) => ({ id: null, atMs: e.atMs, title: e.title }))];
    const attributed = attribute(live.timeline()[0]!, events, (at) => at / 1000, recorder.now());
    expect(attributed.after).toMatchObject({ id: null, title: 'a write by hand on user 1 (name "written by hand", email "u1-w1@r0a1b2c.example.test")' });
    expect(describeAttributed(attributed)).toMatch(/found [\d.]+ s after a write by hand on user 1/);
    await recorder.close();
  });
});

describe('make workshop: what the load writes, for any mapping', () => {
  const recorderFor = (fields: readonly string[]) => new HistoryRecorder({ fields, file: path.join(dir, `shape-${fields.join('-')}.jsonl`), step: 'sandbox', clock: () => 0 });

  it('When the mapping is split-name (the load writes "<tag> Example" names), then the load\'s own values are not taken for writes by hand, and a changed name still is', async () => {
    const recorder = recorderFor(splitNameMapping.oldColumnNames);
    const external = new ExternalWrites(recorder, (at) => at / 1000, () => {}, loadValueShape(splitNameMapping));
    const loadValue = splitNameMapping.sampleFields('u12-w34', 'r0a1b2c.example.test');

    expect(external.byHand('12', loadValue)).toBe(false);
    expect(external.byHand('12', { ...loadValue, name: 'Ada Lovelace' })).toBe(true);
    await recorder.close();
  });

  it('When the mapping is orders-address (a postcode computed from the tag beside it), then the load\'s own values are not taken for writes by hand, and an address with another postcode still is', async () => {
    const recorder = recorderFor(ordersAddressMapping.oldColumnNames);
    const external = new ExternalWrites(recorder, (at) => at / 1000, () => {}, loadValueShape(ordersAddressMapping));
    const loadValue = ordersAddressMapping.sampleFields('k12-w34', 'r0a1b2c.example.test');

    expect(external.spotting).toBe(true);
    expect(external.byHand('0b6e0f6e-6d0c-4b8a-9c52-0f0e3c4d5a6b', loadValue)).toBe(false);
    const otherPostcode = loadValue.address!.replace(/, \S+ \S+ London$/, ', NW1 6XE London');
    expect(otherPostcode).not.toBe(loadValue.address);
    expect(external.byHand('0b6e0f6e-6d0c-4b8a-9c52-0f0e3c4d5a6b', { ...loadValue, address: otherPostcode })).toBe(true);
    await recorder.close();
  });

  it('When a mapping\'s columns are not name and email, then the shape follows its own sample (title and bio carry the tag)', async () => {
    const titleBio = defineMapping({
      id: 'title-bio',
      entity: 'note',
      table: 'notes',
      route: '/notes',
      keyColumn: 'id',
      oldColumns: [
        { name: 'title', mysqlType: 'VARCHAR(80)', sqliteType: 'TEXT', maxChars: 80 },
        { name: 'bio', mysqlType: 'VARCHAR(500)', sqliteType: 'TEXT', maxChars: 500 },
      ],
      newColumn: 'note_doc',
      sample: (tag, domain) => ({ title: `Note ${tag}`, bio: `about ${tag} (see ${domain})` }),
      toNew: (fields) => fields,
      toOld: (doc) => doc,
      parseNew: () => null,
    });
    const recorder = recorderFor(titleBio.oldColumnNames);
    const external = new ExternalWrites(recorder, (at) => at / 1000, () => {}, loadValueShape(titleBio));

    expect(external.byHand('3', titleBio.sampleFields('c2-w9', 'rabcdef.example.test'))).toBe(false);
    expect(external.byHand('3', { title: 'Note c2-w9', bio: 'typed by an attendee' })).toBe(true);
    await recorder.close();
  });

  it('When a mapping\'s sample does not carry the tag as written, then no shape can be derived and nothing is taken for a write by hand (never a load value hidden as external)', () => {
    const upper = { ...splitNameMapping, sampleFields: (tag: string, domain: string) => ({ name: tag.toUpperCase(), email: `${tag}@${domain}` }) };
    expect(loadValueShape(upper)).toBeNull();
  });
});
