// Valid but unusual input, generated (fast-check): SQL-looking text, quotes and backslashes, emoji (ZWJ
// sequences, flags, skin tones), combining accents, right-to-left text and direction marks, names that differ
// only in letter case. Each value is accepted, and round-trips byte for byte through both versions and both
// columns (old name/email and profile_data), on MySQL/MariaDB, where collations would happily call
// 'alice' = 'Alice' and 'Zoe' = 'Zoë'. test/cross-version/unusual-input.test.ts holds the hand-picked cases.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_VERSIONS } from '../../shared/config.ts';
import type { AppVersion } from '../../shared/config.ts';
import { mysqlTarget } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { setFlags } from '../support/flags.ts';
import { inProcessApp } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';
import { storedProfile, storedUser } from '../support/rows.ts';
import { serve } from './client.ts';
import type { Answer, Served } from './client.ts';

const mysql = await mysqlTarget();

const pieces = fc.oneof(
  fc.constantFrom("'; DROP TABLE users;--", "' OR '1'='1", 'Robert"); --', '%_\\%', '`id`', '/* */', '0x27', 'NULL', '\\', '\\\\', '"', "''", '\\u0000', '${x}', '<script>'),
  fc.constantFrom('😀', '👩‍👩‍👧‍👦', '🇺🇦', '👍🏽', '🧑🏿‍🚀', '❤️', '🏳️‍🌈', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𠜎'),
  fc.constantFrom('e\u0301', 'o\u0308', 'n\u0303', 'a\u030a\u0301', 'Z\u0335\u0321', 'é', 'Å', 'ß', 'ǅ'),
  fc.constantFrom('שלום', 'مرحبا', '\u200f', '\u200e', '\u202eevil\u202c', 'עברית123', 'ﻻ'),
  fc.constantFrom('ALICE', 'alice', 'Ǆemal', 'İstanbul', 'ΣΊΣΥΦΟΣ', 'straße', 'ﬁ', 'Ｆｕｌｌ'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
);

/** Valid by construction: no control characters, no surrounding whitespace, 1 to 100 code points. */
const unusualName = fc
  .array(pieces, { minLength: 1, maxLength: 6 })
  .map((parts) => parts.join(' '))
  .filter((name) => name === name.trim() && name.length > 0 && [...name].length <= 100 && !/[\u0000-\u001f\u007f-\u009f]/.test(name) && name.isWellFormed());

const tag = () => Math.random().toString(36).slice(2, 10);
const emailFor = (local: string) => `${local}.${tag()}@example.test`;

describe.skipIf(mysql.skip)('valid but unusual input, generated, on mysql', () => {
  let database: TestDatabase;
  const servers = new Map<AppVersion, { app: InProcessApp; served: Served }>();

  beforeAll(async () => {
    database = await mysql.create();
    for (const version of APP_VERSIONS) {
      const app = await inProcessApp(version, database.db);
      servers.set(version, { app, served: await serve(app.app) });
    }
    // v2 serves reads from profile_data whenever it matches the old columns: both columns get read back.
    await setFlags(database.db, { 'read-new-percent': 100 }, [servers.get('v2')!.app]);
  });
  afterAll(async () => {
    for (const { app, served } of servers.values()) {
      await served.close();
      await app.close();
    }
    await database?.drop();
  });

  const call = (version: AppVersion, method: string, path: string, body?: object): Promise<Answer> =>
    servers.get(version)!.served.request(method, path, body ? { headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) } : {});
  const json = (answer: Answer) => JSON.parse(answer.text) as Record<string, unknown>;

  it('When generated unusual names are written by one version and rewritten by the other, then both columns hold them byte for byte and both versions return them unchanged', async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(unusualName, unusualName, fc.constantFrom<AppVersion>('v1', 'v2'), async (first, second, writer) => {
        const other: AppVersion = writer === 'v1' ? 'v2' : 'v1';
        const created = await call(writer, 'POST', '/users', { name: first, email: emailFor('first') });
        expect(created.status, created.text).toBe(201);
        const id = json(created).id as number;
        expect(json(created).name).toBe(first);

        const rewrite = { name: second, email: emailFor('Second') };
        const updated = await call(other, 'PUT', `/users/${id}`, rewrite);
        expect(updated.status, updated.text).toBe(200);

        const row = (await storedUser(database.db, id))!;
        expect(Buffer.from(row.name)).toEqual(Buffer.from(second));
        expect(row.email).toBe(rewrite.email);
        // profile_data holds the last v2 write: the rewrite when v2 made it, the create otherwise (drift: v1 wrote last).
        const lastV2 = other === 'v2' ? rewrite : { name: first, email: json(created).email };
        expect(storedProfile(row.profileRaw)).toEqual(lastV2);
        for (const reader of APP_VERSIONS) {
          const read = await call(reader, 'GET', `/users/${id}`);
          expect(read.status).toBe(200);
          expect(Buffer.from(json(read).name as string)).toEqual(Buffer.from(second));
          if (reader === 'v2') expect(read.headers['x-read-source']).toBe(other === 'v2' ? 'new' : 'fallback');
        }
        checked++;
      }),
      { numRuns: 150 },
    );
    expect(checked).toBe(150);
  }, 120_000);

  it('When generated names differ only in letter case, then both are stored and returned distinctly by both versions', async () => {
    const caseVariants = unusualName.filter((name) => name.toUpperCase() !== name.toLowerCase() && [...name.toUpperCase()].length <= 100 && name.toUpperCase() === name.toUpperCase().trim());
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(caseVariants, async (name) => {
        const variants = [name.toUpperCase(), name.toLowerCase()];
        const ids: number[] = [];
        for (const [i, variant] of variants.entries()) {
          const created = await call(APP_VERSIONS[i % 2]!, 'POST', '/users', { name: variant, email: emailFor(i === 0 ? 'UPPER' : 'lower') });
          expect(created.status, created.text).toBe(201);
          ids.push(json(created).id as number);
        }
        for (const [i, id] of ids.entries()) {
          expect(Buffer.from((await storedUser(database.db, id))!.name)).toEqual(Buffer.from(variants[i]!));
          for (const reader of APP_VERSIONS) expect(json(await call(reader, 'GET', `/users/${id}`)).name).toBe(variants[i]);
        }
        checked++;
      }),
      { numRuns: 50 },
    );
    expect(checked).toBe(50);
  }, 60_000);
});
