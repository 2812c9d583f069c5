// Runs one of the project's scripts (node --import tsx) with its own RESULTS_DIR, for the judgment tests:
// resolves with the exit code, everything it printed, and the results folder (the caller removes it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnTsx } from '../support/scripts.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export function runScript(script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string; resultsDir: string }> {
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-judgment-'));
  return new Promise((resolve) => {
    const child = spawnTsx(script, args, {
      cwd: ROOT,
      env: { ...process.env, RESULTS_DIR: resultsDir, ...env },
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('close', (code) => resolve({ code, output, resultsDir }));
  });
}
