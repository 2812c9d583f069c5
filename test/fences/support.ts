// What the fence tests share: holding the instance registry's write lock from the test (so an instance's
// registration or heartbeat hangs, as on an overloaded or partitioned database), and asking an instance's
// ops port (/livez, /healthz), which stays open while the public port is closed.
import type { TestDatabase } from '../support/databases.ts';

/**
 * Blocks every write to app_instances until release(), as a transaction of the test's own: on SQLite the write
 * lock (BEGIN IMMEDIATE; a writer in another process waits its busy timeout, 5 s), on MariaDB `SELECT ... FOR
 * UPDATE` over the whole table (row and gap locks under REPEATABLE READ: UPDATEs and INSERTs wait).
 */
export async function lockRegistry(database: TestDatabase): Promise<{ release(): Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const transaction = database.db.transaction(async (tx) => {
    if (database.db.dialect.name !== 'sqlite') await tx.select('SELECT row_id FROM app_instances FOR UPDATE');
    locked();
    await released;
  });
  await isLocked;
  return {
    async release() {
      release();
      await transaction;
    },
  };
}

/** GET on a port: status and parsed JSON body, or the connection error code (ECONNREFUSED). */
export async function probe(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> } | { error: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return { error: cause?.code ?? (err as Error).message };
  }
}
