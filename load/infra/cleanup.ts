// What a long run (make demo, make chaos, make bench) started, and how it is all stopped when the run is
// interrupted (SIGINT, SIGTERM, SIGHUP) or dies. Whatever starts something (an instance, nginx, a private
// MariaDB, a backfill process, a database on the shared server, a temp folder) registers it here with its stop
// function and releases it once stopped; the orchestrator installs the signal handling once
// (installInterruptHandling). Two nets below it, for when the orchestrator cannot clean up itself (kill -9, a
// crash): a reaper process in a session of its own (reaper.ts) is told every registration and undoes what is
// left when its pipe from the orchestrator closes; and every Node child started here exits by itself when its
// parent's pipe closes (exit-with-parent.ts). docs/interrupts.md says what each covers.
import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import mysql from 'mysql2/promise';
import { compiledEntry } from './entry-points.ts';

export type ResourceKind = 'instance' | 'nginx' | 'node-proxy' | 'dashboard' | 'mariadb' | 'process' | 'database' | 'accounts' | 'folder';

/**
 * What the reaper undoes when the orchestrator is gone: a process (by pid and start time), a database, database
 * accounts (user names, all at host %), a folder.
 */
export type ReapEntry =
  | { process: number; startTime: string | null; group: boolean }
  | { database: string; serverUrl: string }
  | { accounts: string[]; serverUrl: string }
  | { folder: string };

export interface Resource {
  kind: ResourceKind;
  /** For the interrupt line: "v1-a", "dwdr_demo_1a2b", "backfill". */
  name: string;
  /** The graceful stop; a process that is still alive after STOP_GRACE_MS is killed (reap.process). */
  stop(): Promise<unknown>;
  /** Absent for what lives inside the orchestrator (the dashboard, the Node proxy): it dies with it. */
  reap?: ReapEntry;
}

const STOP_GRACE_MS = 5_000;
const KILLED_WAIT_MS = 3_000;
const RESULTS_WAIT_MS = 3_000;
const EXIT_CODES: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
const ROOT = path.resolve(import.meta.dirname, '..', '..');

let nextId = 1;
const owned = new Map<number, Resource>();
let reaper: { stdin: Writable } | null = null;

function tellReaper(message: object): void {
  if (!reaper) return;
  try {
    reaper.stdin.write(`${JSON.stringify(message)}\n`);
  } catch {
    // the reaper is gone: the orchestrator's own cleanup still runs
  }
}

/** Registers something the run started; the returned function releases it once it is stopped. */
export function own(resource: Resource): () => void {
  const id = nextId++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    owned.delete(id);
    if (resource.reap) tellReaper({ op: 'remove', id });
  };
  // Stopped is released, whoever stopped it.
  owned.set(id, { ...resource, stop: () => resource.stop().then(release) });
  if (resource.reap) tellReaper({ op: 'add', id, entry: resource.reap, what: `${resource.kind} ${resource.name}` });
  return release;
}

/** DROP DATABASE IF EXISTS on the server at `serverUrl` (mysql://user@host:port/). */
export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  if (!/^\w+$/.test(database)) throw new Error(`dropDatabase: bad database name ${JSON.stringify(database)}`);
  const admin = await mysql.createConnection({ uri: serverUrl, connectTimeout: 3000 });
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  } finally {
    await admin.end();
  }
}

/** DROP USER IF EXISTS for each account (at host %) on the server at `serverUrl`. */
export async function dropAccounts(serverUrl: string, accounts: string[]): Promise<void> {
  for (const account of accounts) if (!/^\w+$/.test(account)) throw new Error(`dropAccounts: bad account name ${JSON.stringify(account)}`);
  const admin = await mysql.createConnection({ uri: serverUrl, connectTimeout: 3000 });
  try {
    for (const account of accounts) await admin.query(`DROP USER IF EXISTS '${account}'@'%'`);
  } finally {
    await admin.end();
  }
}

/**
 * Owns accounts on a shared MySQL/MariaDB server, from before their CREATE USER; the returned function releases
 * them once the run dropped them itself.
 */
export function ownAccounts(serverUrl: string, name: string, accounts: string[]): () => void {
  return own({ kind: 'accounts', name, stop: () => dropAccounts(serverUrl, accounts), reap: { accounts, serverUrl } });
}

/**
 * Owns a database on a shared MySQL/MariaDB server, from before its CREATE (an interrupt right after it still
 * drops it); the returned function releases it once the run dropped it itself (or keeps it on purpose).
 */
export function ownDatabase(serverUrl: string, database: string): () => void {
  return own({ kind: 'database', name: database, stop: () => dropDatabase(serverUrl, database), reap: { database, serverUrl } });
}

/** Field 22 of /proc/<pid>/stat: with the pid, it names one process (a recycled pid has another). Null off Linux. */
export function startTimeOf(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Whether the process registered as (pid, startTime) still runs: not a recycled pid, and not a zombie (an exited
 * child whose new parent has not reaped it yet holds no port and no file). Off Linux (no start time): kill(pid, 0).
 */
export function stillRunning(pid: number, startTime: string | null): boolean {
  if (startTime === null) {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const after = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
    return after[19] === startTime && after[0] !== 'Z' && after[0] !== 'X';
  } catch {
    return false;
  }
}

const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (isRunning(child) && child.pid !== undefined ? child.once('exit', () => resolve()) : resolve()));
}

/**
 * Registers a child process (released when it exits). `group`: it leads a process group of its own (nginx, for
 * its workers) and the group is what gets killed. `stop` defaults to SIGTERM and waiting for the exit.
 */
export function ownChild(kind: ResourceKind, name: string, child: ChildProcess, { group = false, stop }: { group?: boolean; stop?: () => Promise<unknown> } = {}): void {
  if (child.pid === undefined) return;
  const release = own({
    kind,
    name,
    stop:
      stop ??
      (async () => {
        if (isRunning(child)) child.kill('SIGTERM');
        await exitOf(child);
      }),
    reap: { process: child.pid, startTime: startTimeOf(child.pid), group },
  });
  if (isRunning(child)) child.once('exit', release);
  else release();
}

const EXIT_WITH_PARENT = path.join(ROOT, 'load', 'infra', 'exit-with-parent.ts');

/**
 * `node --import tsx <argv>` as a child of the run: registered, preloaded with exit-with-parent.ts and handed the
 * read end of a pipe on fd 3, so that it exits by itself if this process dies without stopping it (kill -9
 * included). `tsx: false` runs `node <argv>` as it is (compiled JS): registered, but without the parent watch,
 * which is TypeScript; the reaper still covers it. Under make test (COMPILED_ENTRY_POINTS), an entry point the build
 * compiled runs as JS with the compiled watch instead of under tsx (load/infra/entry-points.ts).
 */
export function spawnNode(
  kind: ResourceKind,
  name: string,
  argv: string[],
  options: SpawnOptions & { stdio: ['ignore', 'pipe' | 'ignore', 'pipe' | 'ignore'] },
  { tsx = true }: { tsx?: boolean } = {},
): ChildProcess {
  // Under make test, an entry point the build compiled runs as JS, its parent watch too (load/infra/entry-points.ts).
  const compiled = tsx ? compiledEntry(argv[0] ?? '') : null;
  const watch = compiled ? compiledEntry(EXIT_WITH_PARENT) : null;
  const nodeArgv = compiled && watch ? ['--import', watch, compiled, ...argv.slice(1)] : tsx ? ['--import', 'tsx', '--import', EXIT_WITH_PARENT, ...argv] : argv;
  const child = spawn(process.execPath, nodeArgv, {
    ...options,
    env: { ...(options.env ?? process.env), ...(tsx ? { EXIT_WITH_PARENT_FD: '3' } : {}) },
    stdio: [...options.stdio, tsx ? 'pipe' : 'ignore'],
  });
  // The parent end of the pipe: never written, closed by the kernel when this process dies, however it dies.
  (child.stdio[3] as { unref?: () => void } | null)?.unref?.();
  ownChild(kind, name, child);
  return child;
}

// ---------------------------------------------------------------- interrupts

interface Interrupt {
  signal: NodeJS.Signals;
  at: number;
}

let interrupt: Interrupt | null = null;
const resultWriters: ((signal: NodeJS.Signals) => Promise<string | void> | string | void)[] = [];

/**
 * For the orchestrator's main flow at the points where it would judge or write its results: once the run is
 * interrupted, it never goes on (the interrupt handler stops everything and exits with 128 + the signal).
 */
export const interrupted = (): boolean => interrupt !== null;

export async function haltIfInterrupted(graceMs = 0): Promise<void> {
  const deadline = performance.now() + graceMs;
  while (!interrupt && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  if (interrupt) await new Promise<never>(() => {});
}

/**
 * For haltIfInterrupted at a point where a step has just FAILED: a terminal's Ctrl-C (or a closed terminal's
 * SIGHUP) reaches the whole process group at once, so a child can die of it, and the step fail because of that,
 * before this process's own handler has run. Measured in CI: "v1 exited with null before listening" reported as
 * the run's failure, exit 1 instead of 129. A failing run waits this long for a signal that may be on its way.
 */
export const SIGNAL_GRACE_MS = 1000;

/**
 * What to write when interrupted: results so far, marked incomplete and not judged. Runs once, before anything
 * is stopped (a second signal then cannot lose them); may return a line to print.
 */
export function onInterruptWriteResults(writer: (signal: NodeJS.Signals) => Promise<string | void> | string | void): void {
  resultWriters.push(writer);
}

/** What an interrupted run's summary says, whatever the tool: not passed, not judged, incomplete, and why. */
export function incompleteSummary(signal: NodeJS.Signals, step: string): { passed: false; judged: false; incomplete: true; interruptedBy: NodeJS.Signals; step: string; failure: string } {
  return { passed: false, judged: false, incomplete: true, interruptedBy: signal, step, failure: `interrupted by ${signal} during ${step}: not judged` };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "4 instances, nginx, the dashboard, 1 backfill process, database dwdr_demo_1a2b, accounts dwdr_1a2b_*, folder /tmp/x". */
export function describeOwned(resources: Resource[] = [...owned.values()]): string {
  const of = (kind: ResourceKind) => resources.filter((r) => r.kind === kind);
  const parts: string[] = [];
  if (of('instance').length) parts.push(plural(of('instance').length, 'instance'));
  if (of('nginx').length) parts.push(of('nginx').length === 1 ? 'nginx' : `${of('nginx').length} nginx`);
  if (of('node-proxy').length) parts.push('the Node proxy');
  if (of('dashboard').length) parts.push('the dashboard');
  if (of('mariadb').length) parts.push(plural(of('mariadb').length, 'private MariaDB server'));
  if (of('process').length) parts.push(`${of('process').map((r) => r.name).join(', ')} (${plural(of('process').length, 'process', 'processes')})`);
  for (const r of of('database')) parts.push(`database ${r.name}`);
  for (const r of of('accounts')) parts.push(`accounts ${r.name}`);
  if (of('folder').length) parts.push(plural(of('folder').length, 'temp folder'));
  return parts.join(', ') || 'nothing left to stop';
}

/** Set once a write to the terminal failed (a closed terminal, a reader that died): nothing is written after. */
let terminalGone = false;
const isClosedStream = (err: unknown) => ['EPIPE', 'EIO', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END'].includes((err as NodeJS.ErrnoException)?.code ?? '');

/**
 * A closed terminal is not a failure of the run: its window can close (or the reader of its pipe die) a moment
 * before the SIGHUP that follows, and a progress line written in between fails with EPIPE (EIO on a hung-up tty).
 * Unhandled, that error ended the run with exit 1 before its cleanup (measured in CI). From then on nothing is
 * written; the run goes on, and its results still reach the results folder. Any other stream error is rethrown.
 */
function surviveClosedTerminal(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err) => {
      if (!isClosedStream(err)) throw err;
      terminalGone = true;
    });
  }
}

function say(line: string): void {
  // After SIGHUP the terminal is gone: a write to it fails, which must not stop the cleanup, nor be reported on
  // the same dead stream (that report fails too, and so on, without end).
  if (terminalGone) return;
  try {
    process.stderr.write(`${line}\n`);
  } catch {
    terminalGone = true;
  }
}

const bounded = (work: Promise<unknown>, ms: number) => Promise.race([work.catch(() => {}), new Promise((resolve) => setTimeout(resolve, ms).unref())]);

function killNow(resource: Resource): void {
  const reap = resource.reap;
  if (!reap || !('process' in reap)) return;
  if (!stillRunning(reap.process, reap.startTime)) return;
  try {
    process.kill(reap.group ? -reap.process : reap.process, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Stops one resource: gracefully, then (a process) SIGKILL after STOP_GRACE_MS. */
async function stopOne(resource: Resource): Promise<void> {
  const stopped = resource.stop().catch((err: Error) => say(`  could not stop ${resource.kind} ${resource.name}: ${err.message}`));
  let done = false;
  void stopped.then(() => (done = true));
  await bounded(stopped, STOP_GRACE_MS);
  if (done) return;
  killNow(resource);
  await bounded(stopped, KILLED_WAIT_MS);
}

const isData = (r: Resource) => r.kind === 'database' || r.kind === 'accounts' || r.kind === 'folder';

/**
 * Every owned resource stopped: processes and servers first (in parallel), then databases and folders. Again
 * while something is left: the main flow may still start something before it reaches haltIfInterrupted.
 */
export async function stopEverything(): Promise<void> {
  for (let round = 0; round < 3 && owned.size > 0; round++) {
    const resources = [...owned.values()].reverse();
    await Promise.all(resources.filter((r) => !isData(r)).map(stopOne));
    for (const resource of [...owned.values()].reverse().filter(isData)) await stopOne(resource);
  }
}

/**
 * One Ctrl-C can arrive more than once: the terminal signals the whole job, and the wrappers in front of the
 * orchestrator (npm run, the tsx command) relay what they receive. The same signal again within this window is
 * that echo, not a second Ctrl-C.
 */
const RELAYED_ECHO_MS = 1_000;

async function onSignal(signal: NodeJS.Signals, tool: string, resultsDir: string, verdict: boolean): Promise<void> {
  if (interrupt && signal === interrupt.signal && performance.now() - interrupt.at < RELAYED_ECHO_MS) return;
  if (interrupt) {
    // A second signal while cleaning up: kill every process at once; the reaper, which has every database and
    // folder still owned, removes them after this process exits.
    const left = [...owned.values()];
    say(`interrupted again (${signal}): killing what is left now; the reaper removes the rest (${describeOwned(left.filter(isData))})`);
    for (const resource of left) killNow(resource);
    process.exit(EXIT_CODES[interrupt.signal] ?? 1);
  }
  interrupt = { signal, at: performance.now() };
  // Nothing may end the cleanup early: a write to a closed stream (surviveClosedTerminal), a request failing as its
  // server stops.
  process.on('uncaughtException', (err) => {
    if (isClosedStream(err)) terminalGone = true;
    else say(`  (during cleanup: ${err.message})`);
  });
  process.on('unhandledRejection', () => {});
  say(`interrupted (${signal}): stopping ${describeOwned()}`);
  const lines = await Promise.all(resultWriters.map((write) => bounded(Promise.resolve().then(() => write(signal)), RESULTS_WAIT_MS)));
  await stopEverything();
  for (const line of lines) if (typeof line === 'string') say(line);
  const where = path.relative(process.cwd(), resultsDir) || '.';
  if (verdict) {
    const kept = resultWriters.length > 0 ? `results so far stay in ${where} (marked incomplete)` : 'no results were written';
    say(`${tool}: interrupted by ${signal}: the run was NOT judged; ${kept}`);
  } else {
    say(`${tool}: stopped by ${signal}; ${resultWriters.length > 0 ? `what it recorded stays in ${where}` : 'nothing was written'}`);
  }
  process.exit(EXIT_CODES[signal] ?? 1);
}

let installed = false;

/**
 * Once per orchestrator, before it starts anything: the signal handlers and the reaper. `tool` names the run in
 * its last line; `verdict: false` for a run that never judges (the workshop sandbox, stopped by Ctrl-C by design),
 * whose last line then does not speak of a verdict it never promised.
 */
export function installInterruptHandling({ tool, resultsDir, verdict = true }: { tool: string; resultsDir: string; verdict?: boolean }): void {
  if (installed) throw new Error('installInterruptHandling: already installed');
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, (received) => void onSignal(received, tool, resultsDir, verdict));
  surviveClosedTerminal();
  startReaper();
}

// Any process that imports this (an orchestrator, a test file): on exit, whatever a crash, an uncaught error or
// a skipped afterAll left owned is killed and its temp folders removed, synchronously (all 'exit' allows).
// Databases need a connection: after a crash the reaper drops them (orchestrators only).
process.once('exit', () => {
  for (const resource of owned.values()) {
    killNow(resource);
    if (resource.reap && 'folder' in resource.reap) fs.rmSync(resource.reap.folder, { recursive: true, force: true });
  }
});

function startReaper(): void {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'load', 'infra', 'reaper.ts')], {
    cwd: ROOT,
    // A session of its own: neither Ctrl-C, a closed terminal (SIGHUP) nor a kill of this job's group reaches it.
    detached: true,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  child.unref();
  child.stdin!.on('error', () => (reaper = null));
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  reaper = { stdin: child.stdin! };
  for (const [id, resource] of owned) if (resource.reap) tellReaper({ op: 'add', id, entry: resource.reap, what: `${resource.kind} ${resource.name}` });
}
