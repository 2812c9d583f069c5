// The pausable TCP proxy the cut-off-v2 chaos scenario puts between one instance and the primary: it forwards,
// holds (nothing passes, nothing is lost, everything goes through on resume), cuts (every connection ends at
// once, new ones too), and closes. Against a real echo server, and against MariaDB with a table of the test's own.
import net from 'node:net';
import mysql from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { proxyInFrontOf, startPausableProxy } from '../../load/infra/pausable-proxy.ts';
import type { PausableProxy } from '../../load/infra/pausable-proxy.ts';
import { mysqlTarget, unique } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';
import { waitFor } from '../support/instances.ts';

/** An echo server: what the proxy forwards comes back, so both directions are checked at once. */
async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

class Client {
  received = '';
  closed = false;
  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => (this.received += chunk.toString()));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }
  static connect(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => resolve(new Client(socket)));
      socket.once('error', reject);
    });
  }
}

const pollFor = <T>(fn: () => T | undefined, what: string) => waitFor(async () => fn(), { timeoutMs: 5000, intervalMs: 10, what });
/** Long enough for a forwarded byte to come back on loopback many times over. */
const QUIET_MS = 300;
const quiet = () => new Promise((resolve) => setTimeout(resolve, QUIET_MS));

describe('pausable proxy', () => {
  let proxy: PausableProxy | undefined;
  let echo: Awaited<ReturnType<typeof echoServer>> | undefined;
  const clients: Client[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.destroy();
    await proxy?.close();
    await echo?.close();
    proxy = echo = undefined;
  });
  const start = async () => {
    echo = await echoServer();
    proxy = await startPausableProxy({ targetHost: '127.0.0.1', targetPort: echo.port });
    return proxy;
  };
  const connect = async (port: number) => {
    const client = await Client.connect(port);
    clients.push(client);
    return client;
  };

  it('When it forwards, then bytes go both ways unchanged', async () => {
    const { port } = await start();
    const client = await connect(port);

    client.socket.write('hello');

    await pollFor(() => (client.received === 'hello' ? true : undefined), 'the echo');
    expect(proxy!.connections).toBe(1);
  });

  it('When it holds, then nothing passes on open or new connections, and on resume everything held arrives in order', async () => {
    const { port } = await start();
    const open = await connect(port);
    open.socket.write('before ');
    await pollFor(() => (open.received === 'before ' ? true : undefined), 'the echo before the hold');

    proxy!.pause('hold');
    open.socket.write('during');
    const late = await connect(port);
    late.socket.write('new while held');
    await quiet();
    const whileHeld = { open: open.received, late: late.received, openClosed: open.closed, lateClosed: late.closed };
    const seenHeld = { during: proxy!.holding('during'), late: proxy!.holding('new while'), forwarded: proxy!.holding('before') };
    proxy!.resume();

    expect(whileHeld).toEqual({ open: 'before ', late: '', openClosed: false, lateClosed: false });
    // What waits in the proxy is visible (a scenario knows a statement is on the wire); what went through is not.
    expect(seenHeld).toEqual({ during: true, late: true, forwarded: false });
    await pollFor(() => (open.received === 'before during' && late.received === 'new while held' ? true : undefined), 'the held bytes after resume');
    expect(proxy!.holding('during')).toBe(false);
  });

  it('When it cuts, then open connections end at once and new ones are closed as they arrive; after resume it forwards again', async () => {
    const { port } = await start();
    const open = await connect(port);

    proxy!.pause('cut');
    await pollFor(() => (open.closed ? true : undefined), 'the open connection to end');
    const refused = await connect(port);
    await pollFor(() => (refused.closed ? true : undefined), 'the new connection to end');
    proxy!.resume();
    const after = await connect(port);
    after.socket.write('back');

    expect(proxy!.paused).toBeNull();
    await pollFor(() => (after.received === 'back' ? true : undefined), 'the echo after resume');
  });

  it('When a trap is set, then only the connection whose bytes carry its text is held, from that chunk on, while the others flow; release lets it through in order', async () => {
    const { port } = await start();
    const other = await connect(port);
    const caught = await connect(port);
    caught.socket.write('before ');
    await pollFor(() => (caught.received === 'before ' ? true : undefined), 'the echo before the trap');

    const trap = proxy!.trap('SECRET');
    // The text split across two chunks is still seen: the first part went through, the chunk completing it is held.
    caught.socket.write('xx-SEC');
    await pollFor(() => (caught.received === 'before xx-SEC' ? true : undefined), 'the first part of the text');
    caught.socket.write('RET-yy');
    await pollFor(() => (trap.caught ? true : undefined), 'the trap to catch');
    caught.socket.write(' after');
    other.socket.write('flows');
    await pollFor(() => (other.received === 'flows' ? true : undefined), 'the other connection\'s echo');
    const late = await connect(port);
    late.socket.write('new SECRET');
    await pollFor(() => (late.received === 'new SECRET' ? true : undefined), 'a new connection after the trap sprang');
    await quiet();
    const whileCaught = { caught: caught.received, held: proxy!.holding('RET-yy after'), paused: proxy!.paused };
    trap.release();

    expect(whileCaught).toEqual({ caught: 'before xx-SEC', held: true, paused: null });
    await pollFor(() => (caught.received === 'before xx-SECRET-yy after' ? true : undefined), 'the held bytes after release');
  });

  it('When it closes, then every connection ends and the port refuses', async () => {
    const { port } = await start();
    const open = await connect(port);

    await proxy!.close();
    proxy = undefined;

    await pollFor(() => (open.closed ? true : undefined), 'the open connection to end');
    await expect(Client.connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

const mysqlDb = await mysqlTarget();

describe.skipIf(mysqlDb.skip)('pausable proxy in front of MariaDB', () => {
  let database: TestDatabase | undefined;
  let proxy: PausableProxy | undefined;
  let connection: mysql.Connection | undefined;
  let throughUrl: string | undefined;
  afterEach(async () => {
    connection?.destroy();
    await proxy?.close();
    await database?.drop();
    database = proxy = connection = undefined;
  });

  const through = async () => {
    database = await mysqlDb.create({ migrateTo: null });
    await database.db.run('CREATE TABLE notes (id INT PRIMARY KEY, note VARCHAR(64) NOT NULL)');
    const through = await proxyInFrontOf(database.url);
    proxy = through.proxy;
    throughUrl = through.url;
    connection = await mysql.createConnection({ uri: through.url });
    connection.on('error', () => {});
    return connection;
  };
  const notes = async () => database!.db.select<{ id: number; note: string }>('SELECT id, note FROM notes ORDER BY id');

  it('When a write is sent while it holds, then it reaches the database only after resume', async () => {
    const client = await through();
    const note = unique('held');

    proxy!.pause('hold');
    const write = client.query('INSERT INTO notes VALUES (1, ?)', [note]);
    await quiet();
    const whileHeld = await notes();
    proxy!.resume();
    await write;

    expect(whileHeld).toEqual([]);
    expect(await notes()).toEqual([{ id: 1, note }]);
  });

  it('When a trap is set for a value, then the statement carrying it waits on the wire while another connection\'s writes land; on release it lands too', async () => {
    const client = await through();
    const second = await mysql.createConnection({ uri: throughUrl! });
    second.on('error', () => {});
    const note = unique('trapped');
    const other = unique('flows');

    const trap = proxy!.trap(note);
    const trapped = client.execute('INSERT INTO notes VALUES (4, ?)', [note]);
    await pollFor(() => (trap.caught && proxy!.holding(note) ? true : undefined), 'the INSERT to be caught');
    await second.execute('INSERT INTO notes VALUES (5, ?)', [other]);
    const whileCaught = await notes();
    trap.release();
    await trapped;
    second.destroy();

    expect(whileCaught).toEqual([{ id: 5, note: other }]);
    expect(await notes()).toEqual([
      { id: 4, note },
      { id: 5, note: other },
    ]);
  });

  it('When a client sends a write and closes its connection while it holds, then the write still reaches the database on resume (data, then the close, as TCP delivers them)', async () => {
    const client = await through();
    const note = unique('sent-then-closed');

    proxy!.pause('hold');
    void client.query('INSERT INTO notes VALUES (3, ?)', [note]).catch(() => {});
    await pollFor(() => (proxy!.holding(note) ? true : undefined), 'the INSERT to be held');
    client.destroy();
    await quiet();
    const whileHeld = await notes();
    proxy!.resume();

    expect(whileHeld).toEqual([]);
    await pollFor(async () => ((await notes()).length === 1 ? true : undefined), 'the held INSERT after resume');
    expect(await notes()).toEqual([{ id: 3, note }]);
    await pollFor(() => (proxy!.connections === 0 ? true : undefined), 'the closed client\'s pair to end');
  });

  it('When it cuts, then the client\'s next query fails at once and nothing is written', async () => {
    const client = await through();

    proxy!.pause('cut');
    const failure = await client.query('INSERT INTO notes VALUES (2, ?)', [unique('cut')]).then(
      () => null,
      (err: { code?: string; fatal?: boolean }) => err,
    );

    expect(failure).toMatchObject({ fatal: true });
    expect(await notes()).toEqual([]);
  });
});
