// The external-pair harness (external-pair.ts), which the template CI points at its two MySQL 8.4 containers, run
// here against a private MariaDB pair given to it by URL only, as the CI gives its pair: it finds the pair
// replicating, gives each setup a database on both servers, lags the replica at will, sees it catch up, and drops
// the database; a replica that does not replicate is refused by name.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReplicaPair } from '../../load/infra/private-mariadb.ts';
import type { ReplicaPair } from '../../load/infra/private-mariadb.ts';
import { unique } from '../support/databases.ts';
import { externalPairDatabase, externalPairFromEnv } from './external-pair.ts';
import type { ExternalPairDatabase } from './external-pair.ts';
import { replicaUnavailable, title } from './support.ts';

describe.skipIf(replicaUnavailable !== null)(title('a replica pair given by URL (the template CI\'s harness)'), () => {
  let pair: ReplicaPair;
  let database: ExternalPairDatabase;
  beforeAll(async () => {
    pair = await startReplicaPair();
    database = await externalPairDatabase({ primary: pair.primary.url, replica: pair.replica.url });
  }, 60_000);
  afterAll(async () => {
    await pair?.stop();
  });

  const nameOn = async (url: string, id: number) => {
    const connection = await mysql.createConnection({ uri: url });
    try {
      const [rows] = await connection.query('SELECT name FROM t WHERE id = ?', [id]);
      return (rows as { name: string }[])[0]?.name ?? null;
    } finally {
      await connection.end();
    }
  };
  const write = async (id: number, name: string) => {
    const connection = await mysql.createConnection({ uri: database.url });
    try {
      await connection.query('REPLACE INTO t (id, name) VALUES (?, ?)', [id, name]);
    } finally {
      await connection.end();
    }
  };

  it('When the pair is given by URL, then the database exists on both, a write reaches the replica once its position is waited for, and a stopped SQL thread holds it back', async () => {
    const connection = await mysql.createConnection({ uri: database.url });
    await connection.query('CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(100))');
    await connection.end();
    const first = unique('first');
    await write(1, first);
    expect(await database.control.waitForGtid(await database.control.primaryGtidPos(), 10)).toBe(true);
    expect(await nameOn(database.replicaUrl, 1)).toBe(first);

    await database.control.stopReplicaSqlThread();
    const second = unique('second');
    await write(1, second);
    const behind = await database.control.waitForGtid(await database.control.primaryGtidPos(), 1);
    const heldBack = await nameOn(database.replicaUrl, 1);
    await database.control.startReplicaSqlThread();

    expect({ behind, heldBack, primary: await nameOn(database.url, 1) }).toEqual({ behind: false, heldBack: first, primary: second });
    expect(await database.control.waitForGtid(await database.control.primaryGtidPos(), 10)).toBe(true);
    expect(await nameOn(database.replicaUrl, 1)).toBe(second);
  });

  it('When the setup drops its database, then it is gone from both servers', async () => {
    const other = await externalPairDatabase({ primary: pair.primary.url, replica: pair.replica.url });
    const name = new URL(other.url).pathname.slice(1);

    await other.drop();
    await other.control.waitForGtid(await other.control.primaryGtidPos(), 10);

    for (const server of [pair.primary, pair.replica]) {
      const connection = await server.connect();
      const [rows] = await connection.query('SHOW DATABASES LIKE ?', [name]);
      await connection.end();
      expect(rows).toEqual([]);
    }
  });

  it('When the replica does not replicate, then the harness refuses the pair and says how to start it', async () => {
    const connection = await pair.replica.connect();
    await connection.query(database.replication.name === 'mariadb' ? 'STOP SLAVE' : 'STOP REPLICA');
    try {
      await expect(externalPairDatabase({ primary: pair.primary.url, replica: pair.replica.url })).rejects.toThrow(/not replicating \(IO stopped, SQL stopped\).*docker\/ci\/replica-pair\.sh/);
    } finally {
      await connection.query(database.replication.name === 'mariadb' ? 'START SLAVE' : 'START REPLICA');
      await connection.end();
    }
  });

  it('When only one of the two URLs is set, then the harness says both go together', () => {
    expect(externalPairFromEnv({})).toBeNull();
    expect(() => externalPairFromEnv({ REPLICA_PAIR_PRIMARY_URL: 'mysql://root@127.0.0.1:3307/' })).toThrow(/set both, or neither/);
  });
});
