// Command-line tools and entry points as separate processes, started as `npx tsx <script>` starts them
// (node --import tsx: the same loader, without npx's start-up cost), with a deadline. Under make test
// (COMPILED_ENTRY_POINTS) the apps and tools run as their compiled JS instead (load/infra/entry-points.ts).
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio, SpawnOptions, SpawnOptionsWithStdioTuple, StdioNull, StdioPipe } from 'node:child_process';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { compiledEntry } from '../../load/infra/entry-points.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/**
 * `node --import tsx <script> ...args` started from the project root, as the npm scripts start it, stdout and stderr
 * piped: the one way every test starts one of the project's TypeScript entry points as a process.
 */
export function spawnTsx(script: string, args: string[], options: Omit<SpawnOptions, 'stdio'> = {}): ChildProcessByStdio<null, Readable, Readable> {
  const piped: SpawnOptionsWithStdioTuple<StdioNull, StdioPipe, StdioPipe> = { cwd: ROOT, ...options, stdio: ['ignore', 'pipe', 'pipe'] };
  const compiled = compiledEntry(script);
  return spawn(process.execPath, compiled ? [compiled, ...args] : ['--import', 'tsx', path.join(ROOT, script), ...args], piped);
}

export interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Non-empty lines of stdout and stderr together. */
  lines: string[];
}

export interface RunningScript {
  /** Resolves when the process has exited. */
  result: Promise<ScriptResult>;
  /** Called with each chunk of stdout as it arrives (for timing against a line the script prints). */
  onStdout(listener: (text: string) => void): void;
}

/**
 * Runs `tsx <script> ...args` from the project root. The environment is exactly `env` plus PATH and HOME:
 * nothing from the test runner's own environment can change what the script sees.
 */
export function startScript(script: string, args: string[], env: Record<string, string>, { timeoutMs = 20_000 } = {}): RunningScript {
  const child = spawnTsx(script, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  let stdout = '';
  let stderr = '';
  const listeners: ((text: string) => void)[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const listener of listeners) listener(stdout);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<ScriptResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not exit within ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = `${stdout}\n${stderr}`.split('\n').filter((line) => line.trim() !== '');
      resolve({ code, signal, stdout, stderr, lines });
    });
  });
  return { result, onStdout: (listener) => listeners.push(listener) };
}

export function runScript(script: string, args: string[], env: Record<string, string>, options?: { timeoutMs?: number }): Promise<ScriptResult> {
  return startScript(script, args, env, options).result;
}
