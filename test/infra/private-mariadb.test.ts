// The private MariaDB harness: a server of our own that can be stopped, restarted and killed, and a GTID
// primary/replica pair whose replica can be made to lag. Every test writes its own table and asserts what
// the server holds afterwards.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastGtid, privateMariadbUnavailable, startPrivateMariadb, startReplicaPair } from '../../load/infra/private-mariadb.ts';
import type { PrivateMariadb, ReplicaPair } from '../../load/infra/private-mariadb.ts';

// Without mariadbd the tests are skipped, visibly, unless REQUIRE_MYSQL=1 (CI): then they run and fail.
const unavailable = process.env.REQUIRE_MYSQL === '1' ? null : privateMariadbUnavailable();
const title = (what: string) => (unavailable ? `${what} (SKIPPED: ${unavailable})` : what);

const uniqueTable = () => `test.t_${randomBytes(4).toString('hex')}`;

async function createTable(server: PrivateMariadb, table: string): Promise<void> {
  const connection = await server.connect();
  await connection.query('CREATE DATABASE IF NOT EXISTS test');
  await connection.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, note VARCHAR(64) NOT NULL) ENGINE=InnoDB`);
  await connection.end();
}

async function rows(server: PrivateMariadb, table: string): Promise<{ id: number; note: string }[]> {
  const connection = await server.connect();
  try {
    const [result] = await connection.query(`SELECT id, note FROM ${table} ORDER BY id`);
    return result as { id: number; note: string }[];
  } finally {
    await connection.end();
  }
}

describe.skipIf(unavailable !== null)(title('private MariaDB server'), () => {
  let server: PrivateMariadb;

  beforeAll(async () => {
    server = await startPrivateMariadb({ serverId: 7 });
  });
  afterAll(async () => {
    await server?.destroy();
  });

  const ensureRunning = async () => {
    if (!server.running) await server.start();
  };

  it('When it starts, then it listens on its own loopback port with its own datadir and accepts a write', async () => {
    await ensureRunning();
    const table = uniqueTable();

    await createTable(server, table);
    const connection = await server.connect();
    await connection.query(`INSERT INTO ${table} VALUES (1, 'first')`);
    const [variables] = await connection.query('SELECT @@port AS port, @@server_id AS serverId, @@datadir AS dataDir, @@bind_address AS bindAddress');
    await connection.end();

    expect(server.port).not.toBe(3306);
    expect(server.url).toBe(`mysql://root@127.0.0.1:${server.port}/`);
    expect((variables as Record<string, unknown>[])[0]).toEqual({ port: server.port, serverId: 7, dataDir: `${server.dataDir}/`, bindAddress: '127.0.0.1' });
    expect(await rows(server, table)).toEqual([{ id: 1, note: 'first' }]);
  });

  it('When it is stopped, then connections are refused, and when started again on the same port, then committed rows are there', async () => {
    await ensureRunning();
    const table = uniqueTable();
    await createTable(server, table);
    const connection = await server.connect();
    await connection.query(`INSERT INTO ${table} VALUES (1, 'before stop'), (2, 'also before stop')`);
    await connection.end();
    const port = server.port;

    await server.stop();
    expect(server.running).toBe(false);
    await expect(server.connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await server.start();

    expect(server.port).toBe(port);
    expect(await rows(server, table)).toEqual([
      { id: 1, note: 'before stop' },
      { id: 2, note: 'also before stop' },
    ]);
  });

  it('When it is killed with SIGKILL mid-stream and started again, then crash recovery keeps every committed row', async () => {
    await ensureRunning();
    const table = uniqueTable();
    await createTable(server, table);
    const connection = await server.connect();
    for (let id = 1; id <= 50; id++) await connection.query(`INSERT INTO ${table} VALUES (?, ?)`, [id, `row ${id}`]);
    await connection.end();

    await server.kill();
    expect(server.running).toBe(false);
    await server.start();

    const recovered = await rows(server, table);
    expect(recovered).toHaveLength(50);
    expect(recovered.at(-1)).toEqual({ id: 50, note: 'row 50' });
  });

  it('When a server is destroyed, then its process is gone and its temp dir removed', async () => {
    const other = await startPrivateMariadb();

    await other.destroy();

    expect(other.running).toBe(false);
    expect(existsSync(other.dir)).toBe(false);
    await expect(other.connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe.skipIf(unavailable !== null)(title('private primary + replica pair (GTID)'), () => {
  let pair: ReplicaPair;

  beforeAll(async () => {
    pair = await startReplicaPair();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('When a row is written on the primary, then it reaches the replica', async () => {
    const table = uniqueTable();
    await createTable(pair.primary, table);
    const connection = await pair.primary.connect();
    await connection.query(`INSERT INTO ${table} VALUES (1, 'replicated')`);
    const gtid = await lastGtid(connection);
    await connection.end();

    expect(gtid).toMatch(/^0-1-\d+$/);
    expect(await pair.waitForGtid(gtid, 10)).toBe(true);
    expect(await rows(pair.replica, table)).toEqual([{ id: 1, note: 'replicated' }]);
  });

  it('When the replica SQL thread is stopped, then the replica lags, and after it is started, then it catches up', async () => {
    const table = uniqueTable();
    await createTable(pair.primary, table);
    expect(await pair.waitForGtid(await pair.primaryGtidPos(), 10)).toBe(true);

    await pair.stopReplicaSqlThread();
    const connection = await pair.primary.connect();
    await connection.query(`INSERT INTO ${table} VALUES (1, 'written while lagging')`);
    const gtid = await lastGtid(connection);
    await connection.end();

    expect(await pair.waitForGtid(gtid, 1)).toBe(false);
    expect(await rows(pair.replica, table)).toEqual([]);
    expect(await rows(pair.primary, table)).toEqual([{ id: 1, note: 'written while lagging' }]);

    await pair.startReplicaSqlThread();

    expect(await pair.waitForGtid(gtid, 10)).toBe(true);
    expect(await rows(pair.replica, table)).toEqual([{ id: 1, note: 'written while lagging' }]);
  });
});
