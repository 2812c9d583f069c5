// What an instance's MySQL pool holds in memory (shared/db/connection.ts). mysql2 gives every connection a
// prepared-statement cache whose arrays are allocated at full size when the connection opens: at its default
// (16,000 entries) a pool of 20 held ~10 MB of heap, a third of an instance's live heap under load, and V8 lets
// the heap grow to about 4x its live size before it collects (peak resident memory). Counted in bytes of heap,
// not in time.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../../../shared/db/connection.ts';
import { mysqlTarget } from '../../support/databases.ts';

const mysql = await mysqlTarget();

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heapUsedMb = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

describe.skipIf(mysql.skip)('the MySQL pool on MariaDB', () => {
  it('When 20 pool connections are open and have run statements, then they hold under 3 MB of heap together', async () => {
    const database = await mysql.create();
    const db = await connectDatabase(database.url, { poolMax: 20 });
    try {
      await db.select('SELECT 1 AS ok');
      const before = heapUsedMb();

      // 20 statements that each hold a connection for a moment: the pool opens all 20.
      await Promise.all(Array.from({ length: 20 }, (_, i) => db.select('SELECT SLEEP(0.2) AS slept, $1 AS n', [i])));
      const threads = await db.select<{ n: number }>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE()");
      const held = heapUsedMb() - before;

      expect(Number(threads[0]!.n)).toBeGreaterThanOrEqual(20);
      expect(held).toBeLessThan(3);
    } finally {
      await db.close();
      await database.drop();
    }
  });
});
