// Starting `make workshop`'s sandbox for a test: its script with a small table, any free dashboard port, and the
// lines it prints (dashboard URL with the admin token, DATABASE_URL) parsed.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { spawnTsx } from '../support/scripts.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface RunningSandbox {
  child: ChildProcess;
  /** http://127.0.0.1:PORT/ */
  origin: string;
  token: string;
  databaseUrl: string;
  resultsDir: string;
  output: () => string;
  /** SIGINT (Ctrl-C), then the exit code and everything printed. */
  stop: () => Promise<{ code: number | null; output: string }>;
}

export function startSandbox(resultsDir: string, env: Record<string, string> = {}): Promise<RunningSandbox> {
  fs.rmSync(resultsDir, { recursive: true, force: true });
  const child = spawnTsx('load/workshop/sandbox.ts', [], {
    cwd: ROOT,
    env: { ...process.env, DB: 'sqlite', RESULTS_DIR: resultsDir, DASHBOARD_PORT: '0', WORKSHOP_USERS: '2000', WORKSHOP_LOAD_USERS: '200', ...env },
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<{ code: number | null; output: string }>((resolve) => child.on('close', (code) => resolve({ code, output })));
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      const url = /dashboard: +(http:\/\/127\.0\.0\.1:\d+\/)\?token=([0-9a-f]+)/.exec(output);
      const database = /DATABASE_URL=(\S+)/.exec(output);
      if (!url || !database) return;
      clearInterval(poll);
      resolve({
        child,
        origin: url[1]!,
        token: url[2]!,
        databaseUrl: database[1]!,
        resultsDir: path.join(resultsDir, 'workshop'),
        output: () => output,
        stop: () => {
          if (child.exitCode === null) child.kill('SIGINT');
          return exited;
        },
      });
    }, 100);
    void exited.then(({ code }) => {
      clearInterval(poll);
      reject(new Error(`the sandbox exited ${code} before printing its dashboard URL:\n${output}`));
    });
  });
}
