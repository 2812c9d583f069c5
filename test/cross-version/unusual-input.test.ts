// Valid but unusual input is data, not code and not something to tidy up: it is stored and returned byte for
// byte by both versions, in the old columns and in profile_data. No normalization (a combining accent stays
// two code points), no case folding, no escaping that survives into the stored value.
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { databaseTargets, unique } from '../support/databases.ts';
import { setFlags } from '../support/flags.ts';
import { sideBySide } from '../support/instances.ts';
import { storedProfile, storedUser } from '../support/rows.ts';

const targets = await databaseTargets();

// Emails stay unique per test; the names are the unusual values themselves (a suffix would change them).
const uniqueEmail = (local = 'user') => `${local}+${randomBytes(5).toString('hex')}@example.test`;

const hundredEmoji = Array.from({ length: 100 }, (_, i) => String.fromCodePoint(0x1f600 + (i % 64))).join('');

const unusualNames = [
  { label: 'an SQL-looking name', name: "Robert'); DROP TABLE users;--", email: () => uniqueEmail("o'brien") },
  { label: 'quotes and backslashes', name: 'O\'Neil "Bobby" \\ C:\\new\\table \\\\ \\u0041 \'\'', email: () => uniqueEmail() },
  { label: 'a name of 100 emoji (one character each)', name: hundredEmoji, email: () => uniqueEmail() },
  { label: 'combining accents (not normalized)', name: 'Jose\u0301 Zoe\u0308 Ame\u0301lie', email: () => uniqueEmail() },
  { label: 'right-to-left text', name: 'שלום עולם \u200fمرحبا بالعالم', email: () => uniqueEmail() },
];

describe.each(targets)('unusual input on $name', (target) => {
  const apps = sideBySide(target);
  beforeAll(async () => {
    if (target.skip) return;
    // v2 serves every read from profile_data when it matches the old columns: both columns get read back.
    await setFlags(apps.database.db, { 'read-new-percent': 100 }, [apps.v2]);
  });

  it.skipIf(target.skip)('When the unusual values are built, then 100 emoji are 100 code points and the accented name is not in NFC', () => {
    expect([...hundredEmoji]).toHaveLength(100);
    expect(hundredEmoji.length).toBe(200);
    const accented = unusualNames.find((u) => u.label.startsWith('combining'))!.name;
    expect(accented.normalize('NFC')).not.toBe(accented);
  });

  for (const { label, name, email } of unusualNames) {
    it.skipIf(target.skip)(`When v2 creates a user with ${label}, then both columns hold it byte for byte and v1 and v2 return it unchanged`, async () => {
      const fields = { name, email: email() };

      const created = await request(apps.v2.app).post('/users').send(fields).expect(201);

      const id: number = created.body.id;
      expect(created.body).toEqual({ id, ...fields });
      const row = await storedUser(apps.database.db, id);
      expect(Buffer.from(row!.name)).toEqual(Buffer.from(name));
      expect(row!.email).toBe(fields.email);
      expect(storedProfile(row!.profileRaw)).toEqual(fields);
      expect((await request(apps.v1.app).get(`/users/${id}`).expect(200)).body).toEqual({ id, ...fields });
      const byV2 = await request(apps.v2.app).get(`/users/${id}`).expect(200);
      expect(byV2.body).toEqual({ id, ...fields });
      expect(byV2.headers['x-read-source']).toBe('new');
    });

    it.skipIf(target.skip)(`When v1 writes ${label} and v2 rewrites it, then the old columns and then both hold it byte for byte`, async () => {
      const fields = { name, email: email() };

      const created = await request(apps.v1.app).post('/users').send(fields).expect(201);

      const id: number = created.body.id;
      const written = await storedUser(apps.database.db, id);
      expect(Buffer.from(written!.name)).toEqual(Buffer.from(name));
      expect(written!.profileRaw).toBeNull();
      const beforeRewrite = await request(apps.v2.app).get(`/users/${id}`).expect(200);
      expect(beforeRewrite.body).toEqual({ id, ...fields });
      expect(beforeRewrite.headers['x-read-source']).toBe('fallback');

      await request(apps.v2.app).put(`/users/${id}`).send(fields).expect(200);

      expect(storedProfile((await storedUser(apps.database.db, id))!.profileRaw)).toEqual(fields);
      const afterRewrite = await request(apps.v2.app).get(`/users/${id}`).expect(200);
      expect(afterRewrite.body).toEqual({ id, ...fields });
      expect(afterRewrite.headers['x-read-source']).toBe('new');
    });
  }

  it.skipIf(target.skip)('When two names differ only in letter case, then both are stored and returned distinctly by both versions', async () => {
    const base = unique('case');
    const upper = { name: `ALICE ${base}`, email: uniqueEmail() };
    const lower = { name: `alice ${base}`, email: uniqueEmail() };

    const a = (await request(apps.v2.app).post('/users').send(upper).expect(201)).body.id as number;
    const b = (await request(apps.v1.app).post('/users').send(lower).expect(201)).body.id as number;

    expect(a).not.toBe(b);
    expect(await storedUser(apps.database.db, a)).toMatchObject({ name: upper.name });
    expect(storedProfile((await storedUser(apps.database.db, a))!.profileRaw)).toEqual(upper);
    expect(await storedUser(apps.database.db, b)).toMatchObject({ name: lower.name });
    for (const app of [apps.v1.app, apps.v2.app]) {
      expect((await request(app).get(`/users/${a}`).expect(200)).body.name).toBe(upper.name);
      expect((await request(app).get(`/users/${b}`).expect(200)).body.name).toBe(lower.name);
    }
  });

  it.skipIf(target.skip)('When v2 changes only the letter case of a name, then both columns hold the new case', async () => {
    const base = unique('case-change');
    const email = uniqueEmail();
    const { body } = await request(apps.v2.app).post('/users').send({ name: `bob ${base}`, email }).expect(201);

    await request(apps.v2.app).put(`/users/${body.id}`).send({ name: `Bob ${base}`, email }).expect(200);

    const row = await storedUser(apps.database.db, body.id);
    expect(row!.name).toBe(`Bob ${base}`);
    expect(storedProfile(row!.profileRaw)).toEqual({ name: `Bob ${base}`, email });
    expect((await request(apps.v1.app).get(`/users/${body.id}`).expect(200)).body.name).toBe(`Bob ${base}`);
  });
});
