// docs/workshop.md cannot drift from the code: every `sh` block in it runs here, in order, one bash session
// per exercise, in short mode, and the lines under each block's **Expect:** must appear in its output in that
// order (`…` matches anything within a line). The sessions run side by side to keep the wall time down.
// Exercise 1 is also the PAUSE=1 test: the demo reads Enter from a pipe and must not start step N before the
// N-th Enter, with the steps numbered as in the README's canonical table.
// Mechanical only: `make` runs with `-o node_modules/.installed` (never `npm ci` in a shared tree), and the
// guide's fixed port 3102 becomes a free port.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mysqlTarget } from '../support/databases.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const guide = fs.readFileSync(path.join(ROOT, 'docs/workshop.md'), 'utf8');
const SESSION_TIMEOUT_MS = 240_000;
// A test waits for its lane: the sessions before it, then its own.
const TEST_TIMEOUT_MS = 420_000;

interface Block {
  commands: string;
  expect: string[];
}
interface Exercise {
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
function missingLines(output: string, expected: string[]): string[] {
  const lines = output.split('\n');
  let cursor = 0;
  const missing: string[] = [];
  for (const line of expected) {
    const pattern = new RegExp(line.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*'));
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

interface Session {
  outputs: string[];
  /** For each [PAUSE] prompt: its step number, and whether that step had started before Enter was sent. */
  pauses: { step: number; startedEarly: boolean }[];
  code: number | null;
  all: string;
}

const resultsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-workshop-'));
afterAll(() => fs.rmSync(resultsRoot, { recursive: true, force: true }));

async function runSession(exercise: Exercise): Promise<Session> {
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

const exercises = parseGuide(guide);
const mysql = await mysqlTarget();
const skipReason = (exercise: Exercise): string | null => {
  const commands = exercise.blocks.map((b) => b.commands).join('\n');
  if (/make chaos/.test(commands) && mysql.skip) return mysql.skip;
  return null;
};
// Two lanes from the moment this file loads: exercise 1 (the long one) beside the others one after another.
// More at once only overloads a 2-core machine (instances then miss their start deadlines).
const runnable = exercises.filter((e) => !skipReason(e));
const sessions = new Map<number, Promise<Session>>();
let lane: Promise<unknown> = Promise.resolve();
for (const exercise of runnable) {
  if (exercise.number === 1) {
    sessions.set(1, runSession(exercise));
    continue;
  }
  const session = lane.then(() => runSession(exercise));
  sessions.set(exercise.number, session);
  lane = session.catch(() => {});
}

describe('docs/workshop.md', () => {
  it('When parsed, then it has numbered exercises 1-5, each with a goal, a precondition, commands with expected output, and a question', () => {
    expect(exercises.map((e) => e.number)).toEqual([1, 2, 3, 4, 5]);
    for (const section of guide.split(/^## Exercise /m).slice(1)) {
      expect(section).toMatch(/\*\*Goal:\*\*/);
      expect(section).toMatch(/\*\*Precondition:\*\*/);
      expect(section).toMatch(/\*\*Discuss:\*\*/);
    }
    for (const exercise of exercises) {
      expect(exercise.blocks.length, `exercise ${exercise.number}`).toBeGreaterThan(0);
      for (const block of exercise.blocks) expect(block.expect.length, `exercise ${exercise.number}: ${block.commands}`).toBeGreaterThan(0);
    }
  });

  it('When an expected line is absent or out of order, then the matcher reports it (the checks below can fail)', () => {
    expect(missingLines('a 1 b\nc\n', ['a … b', 'c'])).toEqual([]);
    expect(missingLines('c\na 1 b\n', ['c', 'a … b', 'c'])).toEqual(['c']);
    expect(missingLines('PASSED: 3 acknowledged writes', ['FAILED: …'])).toEqual(['FAILED: …']);
  });

  for (const exercise of exercises) {
    const reason = skipReason(exercise);
    it.skipIf(reason !== null)(`When exercise ${exercise.number} (${exercise.title}) runs as written, then every expected line appears${reason ? ` [skipped: ${reason}]` : ''}`, async () => {
      const session = await sessions.get(exercise.number)!;

      exercise.blocks.forEach((block, i) => {
        expect(missingLines(session.outputs[i]!, block.expect), `block ${i + 1} of exercise ${exercise.number}:\n${block.commands}\n--- output ---\n${session.outputs[i]}`).toEqual([]);
      });
    }, TEST_TIMEOUT_MS);
  }

  it('When make demo PAUSE=1 reads Enter from a pipe, then it stops before each step numbered as in the README table, and starts it only after Enter', async () => {
    const readmeSteps = [...fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').matchAll(/^\| (\d+) \| [^|]+ \|/gm)].map((m) => Number(m[1]));
    const session = await sessions.get(1)!;

    expect(readmeSteps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(session.pauses.map((p) => p.step), session.all.slice(-3000)).toEqual(readmeSteps);
    expect(session.pauses.filter((p) => p.startedEarly)).toEqual([]);
    for (const step of readmeSteps) expect(session.all.indexOf(`== step ${step}:`)).toBeGreaterThan(session.all.indexOf(`[PAUSE] next: step ${step} `));
    expect(session.code).toBe(0);
  }, TEST_TIMEOUT_MS);
});
