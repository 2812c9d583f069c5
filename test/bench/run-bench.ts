// Runs `make bench` (load/bench/index.ts) as a process against MYSQL_URL: its exit code, output and pid.
import path from 'node:path';
import { MYSQL_URL } from '../support/databases.ts';
import { spawnTsx } from '../support/scripts.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export function runBench(env: Record<string, string>): Promise<{ code: number | null; output: string; pid: number }> {
  return new Promise((resolve) => {
    const child = spawnTsx('load/bench/index.ts', [], {
      cwd: ROOT,
      env: { ...process.env, MYSQL_URL, ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ code, output, pid: child.pid! }));
  });
}
