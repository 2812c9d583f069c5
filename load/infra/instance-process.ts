// Real app instances as separate processes, started exactly as `npm run start:vN` starts them (used by the
// demo, the chaos scenarios and the tests). Polls with deadlines, never fixed sleeps.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { AppVersion } from '../../shared/config.ts';
import { spawnNode } from './cleanup.ts';

export type { AppVersion };

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface InstanceProcess {
  version: AppVersion;
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `app-vN/server.ts` as its own process on port 0 and waits for its "listening on" line. `nodeArgv`
 * replaces what node runs (the bench runs the compiled `server.js` with V8 flags). The instance is owned by the
 * run (load/infra/cleanup.ts): stopped on an interrupt, and, under tsx, exits by itself if the run dies.
 */
export async function startInstanceProcess(
  version: AppVersion,
  env: Record<string, string>,
  { timeoutMs = 20_000, logFile, nodeArgv }: { timeoutMs?: number; logFile?: string; nodeArgv?: string[] } = {},
): Promise<InstanceProcess> {
  const child = spawnNode(
    'instance',
    env.INSTANCE_ID ?? version,
    nodeArgv ?? [path.join(ROOT, `app-${version}`, 'server.ts')],
    { cwd: ROOT, env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    { tsx: nodeArgv === undefined },
  );
  let output = '';
  // With a log file (the demo: one line per request at info), everything goes there and only the last 64 KB
  // stay in memory for error messages.
  const log = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : null;
  const keep = (chunk: Buffer) => {
    output = log ? (output + chunk).slice(-65_536) : output + chunk;
    log?.write(chunk);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('close', () => log?.end());
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${version} did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = () => {
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', check);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`${version} exited with ${code} before listening:\n${output}`));
    });
  });
  // One that did not start in time is not left running (holding its port, heartbeating as alive).
  const port = await listening.catch(async (err: unknown) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    throw err;
  });
  return {
    version,
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    child,
    output: () => output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls until check() returns a value (not undefined) or the deadline passes. No fixed sleeps. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, { timeoutMs = 5000, intervalMs = 25, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}
