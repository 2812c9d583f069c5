// What an account may do, asked of the real server: each statement is run and reported as allowed or denied, so a
// test states an account's rights as data (test/deploy/accounts.test.ts for accounts.sh run by hand,
// test/deploy/demo-accounts.test.ts for the demo's per-run accounts).
import type { Database } from '../../shared/db/connection.ts';

/** 'denied' when the server refuses the statement for lack of a privilege, else 'allowed'. */
export async function attempt(db: Database, sql: string): Promise<'allowed' | 'denied'> {
  try {
    await db.run(sql);
    return 'allowed';
  } catch (err) {
    const code = (err as { parent?: { code?: string } }).parent?.code ?? '';
    if (/ACCESS_DENIED|COMMAND_DENIED/.test(code)) return 'denied';
    throw err;
  }
}

/** Everything v1's account must not do to profile_data, each as allowed/denied. */
export async function profileDataProbe(db: Database): Promise<Record<string, string>> {
  return {
    select: await attempt(db, 'SELECT profile_data FROM users LIMIT 1'),
    selectAll: await attempt(db, 'SELECT * FROM users LIMIT 1'),
    update: await attempt(db, 'UPDATE users SET profile_data = NULL WHERE id = 0'),
    insert: await attempt(db, "INSERT INTO users (name, email, profile_data, created_at, updated_at) SELECT 'x', 'y', NULL, NOW(3), NOW(3) FROM DUAL WHERE 1 = 0"),
  };
}
export const DENIED_ALL = { select: 'denied', selectAll: 'denied', update: 'denied', insert: 'denied' };

/** Schema changes no app or tool account may make. */
export const DDL = ['ALTER TABLE users ADD COLUMN planted INT NULL', 'DROP TABLE flags', 'CREATE TABLE planted (id INT PRIMARY KEY)', 'CREATE INDEX planted ON users (email)'];
