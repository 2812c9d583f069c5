// What an interrupted run left behind, found from the outside (Linux /proc), never from what the run says
// about itself: every process that descended from the orchestrator while it ran (with its start time, so a
// recycled pid is not mistaken for a survivor), every TCP port one of them listened on, every database named
// in one of their DATABASE_URLs, every private MariaDB datadir on one of their command lines.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { afterEach, expect } from 'vitest';
import { MYSQL_URL } from '../support/databases.ts';
import { spawnTsx } from '../support/scripts.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

interface Seen {
  pid: number;
  startTime: string;
  command: string;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), null when the process is gone or a zombie. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' || fields[0] === 'X' ? null : (fields[19] ?? null);
  } catch {
    return null;
  }
}

function parentOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function readProc(pid: number, file: 'cmdline' | 'environ'): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Every live descendant of `root` (by parent pid; a process that was reparented is caught on an earlier poll). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(Number(entry));
    if (parent !== null) children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** TCP ports in LISTEN state held by one of `pids` (sockets found through /proc/<pid>/fd, ports through /proc/net). */
function listeningPorts(pids: number[]): number[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]!);
      } catch {
        // closed meanwhile
      }
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[] = [];
    try {
      lines = fs.readFileSync(table, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A' && inodes.has(fields[9]!)) ports.push(parseInt(fields[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

export interface WatchedRun {
  pid: number;
  child: ChildProcess;
  output(): string;
  /** Resolves once `pattern` appears in the output (rejects when the run exits first or the deadline passes). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves once `count` processes whose command line matches `pattern` were seen. */
  waitForProcess(pattern: RegExp, count?: number, timeoutMs?: number): Promise<void>;
  /** Sends `signal` to the run's process group, as a terminal sends Ctrl-C (SIGINT) to its foreground job. */
  signalGroup(signal: NodeJS.Signals): void;
  /** Closes the reading ends of the run's stdout and stderr, as a closed terminal window does: its writes fail. */
  closeTerminal(): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything seen so far (polled every 100 ms while the run is alive). */
  seen(): { processes: Seen[]; ports: number[]; databases: string[]; dataDirs: string[] };
}

/**
 * Starts `node --import tsx <script>` in a process group of its own (its leader: like a shell job) and
 * watches its process tree until it exits.
 */
export function watchRun(script: string, env: Record<string, string>): WatchedRun {
  const child = spawnTsx(script, [], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    detached: true,
  });
  const pid = child.pid!;
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let alive = true;
  void exited.then(() => (alive = false));
  const processes = new Map<string, Seen>();
  const ports = new Set<number>();
  const databases = new Set<string>();
  const dataDirs = new Set<string>();
  const poll = () => {
    const pids = descendants(pid);
    for (const p of pids) {
      const startTime = startTimeOf(p);
      if (startTime === null) continue;
      // Read again on every poll: a child seen between its fork and its exec still shows its parent's command
      // line and environment, and would never match what it becomes.
      const command = readProc(p, 'cmdline');
      processes.set(`${p}:${startTime}`, { pid: p, startTime, command: command.join(' ') });
      for (const variable of readProc(p, 'environ')) {
        const match = /^DATABASE_URL=mysql:\/\/[^/]*\/(\w+)/.exec(variable);
        if (match) databases.add(match[1]!);
      }
      for (const arg of command) if (arg.startsWith('--datadir=')) dataDirs.add(path.dirname(arg.slice('--datadir='.length)));
    }
    for (const port of listeningPorts(pids)) ports.add(port);
  };
  const timer = setInterval(() => alive && poll(), 100);
  void exited.then(() => clearInterval(timer));
  return {
    pid,
    child,
    output: () => output,
    async waitForOutput(pattern, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (!alive) throw new Error(`the run exited before printing ${pattern}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      poll();
    },
    async waitForProcess(pattern, count = 1, timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    while ([...processes.values()].filter((p) => pattern.test(p.command)).length < count) {
      if (!alive) throw new Error(`the run exited before ${count} processes matching ${pattern} started:\n${output}`);
      if (Date.now() > deadline) throw new Error(`fewer than ${count} processes matching ${pattern} within ${timeoutMs} ms:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  },
    signalGroup(signal) {
      poll();
      process.kill(-pid, signal);
    },
    closeTerminal() {
      child.stdout!.destroy();
      child.stderr!.destroy();
    },
    exited,
    seen: () => ({ processes: [...processes.values()], ports: [...ports], databases: [...databases], dataDirs: [...dataDirs] }),
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function existingDatabases(names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const admin = await mysql.createConnection({ uri: MYSQL_URL });
  try {
    const [rows] = await admin.query('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?)', [names]);
    return (rows as { name: string }[]).map((r) => r.name);
  } finally {
    await admin.end();
  }
}

/** The accounts a demo run on MySQL created for its database dwdr_demo_<hex> (dwdr_<hex>_*) that still exist. */
async function existingRunAccounts(databases: string[]): Promise<string[]> {
  const prefixes = databases.flatMap((name) => /^dwdr_demo_([0-9a-f]{8})$/.exec(name)?.slice(1) ?? []).map((hex) => `dwdr\\_${hex}\\_%`);
  if (prefixes.length === 0) return [];
  const admin = await mysql.createConnection({ uri: MYSQL_URL });
  try {
    const [rows] = await admin.query(`SELECT User AS user FROM mysql.user WHERE ${prefixes.map(() => 'User LIKE ?').join(' OR ')}`, prefixes);
    return (rows as { user: string }[]).map((r) => r.user);
  } finally {
    await admin.end();
  }
}

export interface Leftovers {
  processes: string[];
  ports: number[];
  databases: string[];
  /** The demo's per-run database accounts (load/run/accounts.ts). */
  accounts: string[];
  dataDirs: string[];
}

/**
 * What the run left `withinMs` after it exited: polls until nothing is left or the deadline passes (processes
 * are given the time their own stop takes; a clean run has nothing left at the first poll).
 */
export async function leftovers(run: WatchedRun, { withinMs = 15_000, databases: named = [] }: { withinMs?: number; databases?: string[] } = {}): Promise<Leftovers> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const { processes, ports, dataDirs } = run.seen();
    // Besides those seen in a child's DATABASE_URL: the ones the run named before any child started.
    const databases = [...new Set([...run.seen().databases, ...named])];
    const left: Leftovers = {
      processes: processes.filter((p) => startTimeOf(p.pid) === p.startTime).map((p) => `${p.pid} ${p.command}`),
      ports: (await Promise.all(ports.map(async (port) => ((await accepts(port)) ? port : null)))).filter((p): p is number => p !== null),
      databases: await existingDatabases(databases),
      accounts: await existingRunAccounts(databases),
      dataDirs: dataDirs.filter((dir) => fs.existsSync(dir)),
    };
    const empty = Object.values(left).every((list) => list.length === 0);
    if (empty || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** After a failed test: stop whatever the run left so one failure does not pile up servers on the machine. */
export function killLeftovers(run: WatchedRun): void {
  for (const p of run.seen().processes) {
    if (startTimeOf(p.pid) !== p.startTime) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** What leftovers() reports for a run that left nothing behind. */
export const NOTHING: Leftovers = { processes: [], ports: [], databases: [], accounts: [], dataDirs: [] };

/**
 * Asserts that nothing was left, naming in the failure's first line what was and what the reaper said (CI's
 * summary shows only the first lines of an error).
 */
export function expectNothingLeft(left: Leftovers, run?: WatchedRun): void {
  const reaper = run ? run.output().split('\n').filter((line) => line.startsWith('reaper:')) : [];
  expect(left, `left behind: ${JSON.stringify(left)}; reaper: ${reaper.length ? reaper.join(' | ') : 'said nothing'}`).toEqual(NOTHING);
}

/**
 * For one test file: each test starts one watched run with a results folder of its own; after each test whatever
 * the run left is killed (one failure must not pile up servers) and the folder removed.
 */
export function interruptedRuns(): { start(script: string, env: Record<string, string>): WatchedRun; resultsDir(): string; readJson(file: string): Record<string, unknown> } {
  let run: WatchedRun | undefined;
  let resultsDir: string | undefined;
  afterEach(() => {
    if (run) killLeftovers(run);
    if (resultsDir) fs.rmSync(resultsDir, { recursive: true, force: true });
    run = resultsDir = undefined;
  });
  const folder = () => {
    if (!resultsDir) throw new Error('no run started in this test');
    return resultsDir;
  };
  return {
    start(script, env) {
      resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-interrupt-'));
      run = watchRun(script, { RESULTS_DIR: resultsDir, ...env });
      return run;
    },
    resultsDir: folder,
    readJson: (file) => JSON.parse(fs.readFileSync(path.join(folder(), file), 'utf8')) as Record<string, unknown>,
  };
}
