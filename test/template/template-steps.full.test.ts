// docs/template.md, followed as written by a team adapting the template: in a copy of the repository, copy the
// default mapping to a new file for another table (step 1), list it in examples/index.ts (step 4), check it with
// tsc (step 5), and run the short demo with MAPPING=<id> (step 7). What must hold: that is all it takes. The
// rollout runs to the end on the new table with 0 anomalies, and the database it leaves is the new table with
// the new column and without the old ones (contracted away), never the `users` table.
//
// The copy renames the old columns too (title, bio instead of name, email, no email format): the load, the
// snapshots and the consistency checker take the field list from the mapping and the history, never from users.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../shared/db/connection.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The repository as a clone would have it (tracked and new files, nothing ignored), node_modules linked. */
function copyRepository(into: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    const from = path.join(ROOT, file);
    if (!fs.existsSync(from)) continue; // deleted in the working tree, not yet committed
    fs.mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
    fs.copyFileSync(from, path.join(into, file));
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(into, 'node_modules'));
}

/** Runs node with the copy as its working directory; resolves with the exit code and everything printed. */
function run(copy: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: copy, env: { ...process.env, MAPPING: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('docs/template.md, followed step by step in a copy of the repository', () => {
  let copy: string;
  beforeAll(() => {
    copy = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-template-'));
    copyRepository(copy);
  });
  afterAll(() => fs.rmSync(copy, { recursive: true, force: true }));

  it('When a team copies examples/users.ts for a members table with other old columns (title, bio), lists it in examples/index.ts and runs the short demo with MAPPING=members, then tsc passes, the rollout ends with 0 anomalies, and the database holds members with member_doc {title, bio} and without the old columns', async () => {
    // Step 1: copy a mapping; set id, entity, table, route, the old columns (other names and types) and the new column.
    const users = fs.readFileSync(path.join(copy, 'examples/users.ts'), 'utf8');
    const edits: [string, string][] = [
      ["id: 'users'", "id: 'members'"],
      ["entity: 'user'", "entity: 'member'"],
      ["table: 'users'", "table: 'members'"],
      ["route: '/users'", "route: '/members'"],
      ["newColumn: 'profile_data'", "newColumn: 'member_doc'"],
      ['export const usersMapping', 'export const membersMapping'],
      ["const COLUMNS = ['name', 'email'] as const;", "const COLUMNS = ['title', 'bio'] as const;"],
      ["{ name: 'name', mysqlType: 'VARCHAR(100)', sqliteType: 'TEXT', maxChars: 100 }", "{ name: 'title', mysqlType: 'VARCHAR(80)', sqliteType: 'TEXT', maxChars: 80 }"],
      ["{ name: 'email', mysqlType: 'VARCHAR(254)', sqliteType: 'TEXT', maxChars: 254, format: 'email-address' }", "{ name: 'bio', mysqlType: 'VARCHAR(500)', sqliteType: 'TEXT', maxChars: 500 }"],
      // Step 2 and 3: the transform both ways, in code and in SQL.
      ['toNew: (fields) => ({ name: fields.name, email: fields.email })', 'toNew: (fields) => ({ title: fields.title, bio: fields.bio })'],
      ['toOld: (profile) => ({ name: profile.name, email: profile.email })', 'toOld: (profile) => ({ title: profile.title, bio: profile.bio })'],
      ["dialect.jsonObject({ name: old('name'), email: old('email') })", "dialect.jsonObject({ title: old('title'), bio: old('bio') })"],
      // The lookup by a field that moves into the JSON (optional): pointed at one of the new columns' fields.
      ["param: 'email',", "param: 'title',"],
      ['maxChars: 254,\n    fromFields: (fields) => fields.email,', 'maxChars: 80,\n    fromFields: (fields) => fields.title,'],
      ["jsonPath: '$.email',", "jsonPath: '$.title',"],
      ["({ where: 'email = $1', params: [value] })", "({ where: 'title = $1', params: [value] })"],
    ];
    let members = users;
    for (const [from, to] of edits) {
      expect(members, `examples/users.ts no longer holds ${from}: update this test and docs/template.md together`).toContain(from);
      members = members.replace(from, to);
    }
    fs.writeFileSync(path.join(copy, 'examples/members.ts'), members);
    // Step 4: one line in the index (and its import).
    const indexFile = path.join(copy, 'examples/index.ts');
    const index = fs.readFileSync(indexFile, 'utf8');
    expect(index).toContain('  usersMapping,\n');
    fs.writeFileSync(indexFile, `import { membersMapping } from './members.ts';\n${index.replace('  usersMapping,\n', '  usersMapping,\n  membersMapping,\n')}`);

    // Step 5: the mapping checks against the contract.
    const tsc = await run(copy, [path.join(copy, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.']);
    expect(tsc.code, tsc.output).toBe(0);

    // Step 7: the short demo on SQLite.
    const results = path.join(copy, 'results');
    const demo = await run(copy, ['--import', 'tsx', 'load/rollout/demo.ts'], { MAPPING: 'members', DB: 'sqlite', RESULTS_DIR: results, DEMO_STEP_SECONDS: '1', DEMO_SEED_USERS: '100' });
    expect(demo.code, demo.output.slice(-3000)).toBe(0);
    const summary = JSON.parse(fs.readFileSync(path.join(results, 'demo-summary.json'), 'utf8')) as { passed: boolean; anomalies: number; failedRequests: number };
    expect(summary).toMatchObject({ passed: true, anomalies: 0, failedRequests: 0 });

    const db = await connectDatabase(`sqlite:${path.join(results, 'demo-data', 'demo.sqlite')}`);
    try {
      const tables = (await db.select<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")).map((row) => row.name);
      expect(tables).toContain('members');
      expect(tables).not.toContain('users');
      const memberColumns = (await db.select<{ name: string }>("SELECT name FROM pragma_table_info('members')")).map((row) => row.name);
      expect(memberColumns.sort()).toEqual(['created_at', 'id', 'member_doc', 'updated_at']);
      const [{ rows, valid }] = await db.select<{ rows: number; valid: number }>(
        "SELECT COUNT(*) AS rows, SUM(json_valid(member_doc) AND json_type(member_doc, '$.title') = 'text' AND json_type(member_doc, '$.bio') = 'text') AS valid FROM members",
      ) as [{ rows: number; valid: number }];
      expect(rows).toBeGreaterThanOrEqual(100);
      expect(valid).toBe(rows);
    } finally {
      await db.close();
    }
  }, 600_000);
});
