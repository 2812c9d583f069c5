// The reaper of a run (started by cleanup.ts installInterruptHandling, in a session of its own): it reads, one JSON
// line each, what the orchestrator starts (a process by pid and start time, a database on a MySQL/MariaDB server,
// accounts, a folder) and releases. When its stdin closes, the orchestrator has exited, normally or not (kill -9, a crash, a
// second Ctrl-C): whatever is still registered is undone, processes first (SIGTERM, SIGKILL after
// KILL_AFTER_MS), then databases and accounts are dropped and folders removed. A clean run leaves it nothing to do.
import fs from 'node:fs';
import readline from 'node:readline';
import { dropAccounts, dropDatabase, stillRunning } from './cleanup.ts';
import type { ReapEntry } from './cleanup.ts';

const KILL_AFTER_MS = 5_000;
/** What is registered, and what it is ("instance v1-a", "database dwdr_demo_1a2b"), for the one line it prints. */
const entries = new Map<number, { entry: ReapEntry; what: string }>();

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  try {
    const message = JSON.parse(line) as { op: 'add'; id: number; entry: ReapEntry; what: string } | { op: 'remove'; id: number };
    if (message.op === 'add') entries.set(message.id, { entry: message.entry, what: message.what });
    else entries.delete(message.id);
  } catch {
    // a torn last line from a killed orchestrator: nothing to act on
  }
});
lines.on('close', () => void reap().finally(() => process.exit(0)));

/**
 * Still the process that was registered (a pid recycled since is left alone). For a process group (nginx): any
 * member left, since workers whose master was killed alone keep serving.
 */
const same = (entry: { process: number; startTime: string | null; group: boolean }) => stillRunning(entry.process, entry.startTime) || (entry.group && groupExists(entry.process));

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(entry: { process: number; group: boolean }, sig: NodeJS.Signals): void {
  try {
    process.kill(entry.group ? -entry.process : entry.process, sig);
  } catch {
    // already gone
  }
}

async function reap(): Promise<void> {
  // A process that already exited (killed by the orchestrator's exit hook, or on its own) needs nothing.
  const left = [...entries.values()].filter(({ entry }) => !('process' in entry) || same(entry));
  if (left.length === 0) return;
  process.stderr.write(`reaper: the run ended without stopping everything; stopping ${left.map((l) => l.what).join(', ')}\n`);
  const processes = left.flatMap(({ entry }) => ('process' in entry ? [entry] : []));
  for (const entry of processes) signal(entry, 'SIGTERM');
  const deadline = Date.now() + KILL_AFTER_MS;
  while (processes.some(same) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const entry of processes.filter(same)) signal(entry, 'SIGKILL');
  for (const { entry } of left) {
    if ('database' in entry) {
      try {
        await dropDatabase(entry.serverUrl, entry.database);
      } catch (err) {
        process.stderr.write(`reaper: could not drop database ${entry.database} at ${entry.serverUrl}: ${(err as Error).message}\n`);
      }
    }
    if ('accounts' in entry) {
      try {
        await dropAccounts(entry.serverUrl, entry.accounts);
      } catch (err) {
        process.stderr.write(`reaper: could not drop accounts ${entry.accounts.join(', ')} at ${entry.serverUrl}: ${(err as Error).message}\n`);
      }
    }
    if ('folder' in entry) fs.rmSync(entry.folder, { recursive: true, force: true });
  }
}
