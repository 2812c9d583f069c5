// docs/workshop.md, run as written: parses its exercises (every `sh` block and the lines under its **Expect:**)
// and runs an exercise's blocks in one bash session, in short mode. Shared by workshop.test.ts (make test: the
// guide's shape) and workshop.full.test.ts (make test-full: every exercise run).
// Mechanical only: `make` runs with `-o node_modules/.installed` (never `npm ci` in a shared tree), and the
// guide's fixed port 3102 becomes a free port.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';
import { escapeRegExp } from '../../load/proof/generator.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const guide = fs.readFileSync(path.join(ROOT, 'docs/workshop.md'), 'utf8');
const SESSION_TIMEOUT_MS = 240_000;
// A test waits for its lane: the sessions before it, then its own.
export const TEST_TIMEOUT_MS = 420_000;

interface Block {
  commands: string;
  expect: string[];
}
export interface Exercise {
  number: number;
  title: string;
  blocks: Block[];
}

function parseGuide(text: string): Exercise[] {
  return text
    .split(/^## /m)
    .slice(1)
    .flatMap((section) => {
      const heading = /^Exercise (\d+): (.*)$/m.exec(section);
      if (!heading) return [];
      const blocks: Block[] = [];
      for (const fence of section.matchAll(/```(sh|text)\n([\s\S]*?)```/g)) {
        if (fence[1] === 'sh') blocks.push({ commands: fence[2]!, expect: [] });
        else if (blocks.length > 0) blocks.at(-1)!.expect.push(...fence[2]!.split('\n').filter((line) => line.trim() !== ''));
      }
      return [{ number: Number(heading[1]), title: heading[2]!, blocks }];
    });
}

/** Each expected line must match a later output line than the previous one; `…` matches any text. */
export function missingLines(output: string, expected: string[]): string[] {
  const lines = output.split('\n');
  let cursor = 0;
  const missing: string[] = [];
  for (const line of expected) {
    const pattern = new RegExp(line.split('…').map(escapeRegExp).join('.*'));
    const found = lines.findIndex((candidate, i) => i >= cursor && pattern.test(candidate));
    if (found < 0) missing.push(line);
    else cursor = found + 1;
  }
  return missing;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface Session {
  outputs: string[];
  /** For each [PAUSE] prompt: its step number, and whether that step had started before Enter was sent. */
  pauses: { step: number; startedEarly: boolean }[];
  code: number | null;
  all: string;
}

const resultsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-workshop-'));
afterAll(() => fs.rmSync(resultsRoot, { recursive: true, force: true }));

export async function runSession(exercise: Exercise): Promise<Session> {
  const port = String(await freePort());
  const marker = (i: number) => `@@workshop block ${i}@@`;
  const script = [
    'make() { command make --no-print-directory -o node_modules/.installed "$@"; }',
    ...exercise.blocks.flatMap((block, i) => [`echo '${marker(i)}'`, block.commands.replace(/\b3102\b/g, port)]),
    `echo '${marker(exercise.blocks.length)}'`,
  ].join('\n');
  const env: Record<string, string | undefined> = {
    ...process.env,
    DEMO_STEP_SECONDS: '1',
    DEMO_SEED_USERS: '20',
    CHAOS_SHORT: '1',
    DB: 'sqlite',
    RESULTS_DIR: path.join(resultsRoot, `exercise-${exercise.number}`),
    // The guide's `mktemp -d` databases land here too, and go with it.
    TMPDIR: fs.mkdtempSync(path.join(resultsRoot, 'tmp-')),
  };
  for (const inherited of ['DATABASE_URL', 'SCENARIO', 'PAUSE', 'BALANCER', 'MAKEFLAGS', 'MAKELEVEL', 'MFLAGS']) delete env[inherited];
  // detached: its own process group, so a deadline can end everything the session started.
  const child = spawn('bash', ['-c', script], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let all = '';
  const pauses: Session['pauses'] = [];
  let answered = 0;
  const onData = (chunk: Buffer) => {
    all += chunk;
    const prompts = [...all.matchAll(/^\[PAUSE\] next: step (\d+) /gm)];
    for (; answered < prompts.length; answered++) {
      const step = Number(prompts[answered]![1]);
      const promptAt = prompts[answered]!.index!;
      // Give the demo time to (wrongly) run on before Enter: the step must not have started by then.
      setTimeout(() => {
        pauses.push({ step, startedEarly: all.slice(promptAt).includes(`== step ${step}:`) });
        child.stdin.write('\n');
      }, 300);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), SESSION_TIMEOUT_MS);
    child.on('close', (exitCode) => (clearTimeout(timer), resolve(exitCode)));
  });
  const outputs = exercise.blocks.map((_, i) => all.split(marker(i))[1]?.split(marker(i + 1))[0] ?? '');
  return { outputs, pauses, code, all };
}

export const exercises = parseGuide(guide);
const mysql = await mysqlTarget();
export const skipReason = (exercise: Exercise): string | null => {
  const commands = exercise.blocks.map((b) => b.commands).join('\n');
  if (/make chaos/.test(commands) && mysql.skip) return mysql.skip;
  return null;
};
/**
 * Starts the given exercises as soon as the calling file loads, in lanes: each lane runs its exercises one after
 * another, the lanes side by side. More than two at once only overloads a 2-core machine (instances then miss
 * their start deadlines).
 */
export function startSessions(lanes: number[][]): Map<number, Promise<Session>> {
  const sessions = new Map<number, Promise<Session>>();
  for (const numbers of lanes) {
    let lane: Promise<unknown> = Promise.resolve();
    for (const exercise of exercises.filter((e) => numbers.includes(e.number) && !skipReason(e))) {
      const session = lane.then(() => runSession(exercise));
      sessions.set(exercise.number, session);
      lane = session.catch(() => {});
    }
  }
  return sessions;
}
