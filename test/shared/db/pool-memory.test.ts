// What an instance's MySQL pool holds in memory (shared/db/connection.ts). mysql2 gives every connection a
// prepared-statement cache whose arrays are allocated at full size when the connection opens: at its default
// (16,000 entries) a pool of 20 held ~10 MB of heap, a third of an instance's live heap under load, and V8 lets
// the heap grow to about 4x its live size before it collects (peak resident memory). Counted in bytes of heap,
// not in time. And how its rows come back: through a typeCast function (Sequelize's own), every row was kept
// through a young-generation collection and promoted to old space; through mysql2's own conversion, none is.
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
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

/**
 * Bytes promoted to old space while fn runs: the growth of old space across each young-generation collection
 * (what a scavenge moved there), summed. Counted in bytes, not in time.
 */
async function promotedBytes(fn: () => Promise<void>): Promise<number> {
  const oldUsed = () => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')!.space_used_size;
  let promoted = 0;
  let last = oldUsed();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const now = oldUsed();
      if (((entry as unknown as { detail?: { kind?: number } }).detail)?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR && now > last) promoted += now - last;
      last = now;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    await fn();
    // The observer's entries are delivered on a later turn.
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    observer.disconnect();
  }
  return promoted;
}

describe.skipIf(mysql.skip)('result rows on MariaDB', () => {
  it("When the apps' connection reads rows, then mysql2 converts them itself (no typeCast function) and a DATETIME(3) arrives as the database's text", async () => {
    const database = await mysql.create();
    const db = await connectDatabase(database.url, { poolMax: 2 });
    try {
      const [row] = await db.select<{ at: unknown; d: unknown }>("SELECT CAST('2026-12-03 04:05:06.789' AS DATETIME(3)) AS at, CAST('2026-12-03' AS DATE) AS d");
      const manager = db.sequelize.connectionManager as unknown as { getConnection(): Promise<{ config: { typeCast?: unknown } }>; releaseConnection(c: unknown): void };
      const connection = await manager.getConnection();
      const typeCast = connection.config.typeCast;
      manager.releaseConnection(connection);

      expect(row).toEqual({ at: '2026-12-03 04:05:06.789', d: '2026-12-03' });
      expect(typeof typeCast).not.toBe('function');
    } finally {
      await db.close();
      await database.drop();
    }
  });

  it('When 4,000 rows are read through the pool, 20 statements at a time, then the rows are not promoted to old space (under 2 MB in all)', async () => {
    const database = await mysql.create();
    const db = await connectDatabase(database.url, { poolMax: 20 });
    try {
      await db.run('CREATE TABLE things (id INT PRIMARY KEY, name VARCHAR(100), email VARCHAR(100), at DATETIME(3))');
      await db.run("INSERT INTO things SELECT seq, CONCAT('name-', seq), CONCAT('e', seq, '@example.test'), CURRENT_TIMESTAMP(3) FROM seq_1_to_1000");
      const readAll = async (rounds: number) => {
        for (let round = 0; round < rounds; round++) {
          await Promise.all(Array.from({ length: 20 }, (_, i) => db.select('SELECT id, name, email, at FROM things WHERE id = $1', [1 + ((round * 20 + i) % 1000)])));
        }
      };
      await readAll(50); // warm: compiled code and the statement cache are not what is measured

      const promoted = await promotedBytes(() => readAll(200));

      expect(promoted / 2 ** 20).toBeLessThan(2);
    } finally {
      await db.close();
      await database.drop();
    }
  });
});
