// A step that fails because an interrupt killed its child must not be reported as the run's failure: the signal
// reaches the whole process group, and the child's death may be seen before this process's own handler runs.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript, spawnTsx } from '../support/scripts.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('a failure just before the interrupt arrives', () => {
  it('When a step fails 200 ms before SIGTERM reaches the run, then the run waits for it, reports no failure and exits 143', async () => {
    const run = await runScript('test/interrupts/fixtures/fails-as-signal-arrives.ts', [], {});

    expect(run.code, run.stdout + run.stderr).toBe(143);
    expect(run.stdout).not.toMatch(/^FAILED/m);
    expect(run.stdout + run.stderr).toMatch(/interrupted \(SIGTERM\)/);
  }, 60_000);

  it('When the run does not wait (no grace), then the failure wins the race: the check above can fail', async () => {
    const run = await runScript('test/interrupts/fixtures/fails-as-signal-arrives.ts', [], { GRACE: '0' });

    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/^FAILED: the step failed/m);
  }, 60_000);
});

describe('a terminal that closes before its SIGHUP arrives', () => {
  it('When the terminal goes away while the run is writing to it and SIGHUP follows 500 ms later, then the failed writes do not end the run: it exits 129 from its cleanup', async () => {
    const child = spawnTsx('test/interrupts/fixtures/writes-to-terminal.ts', [], { cwd: ROOT });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await new Promise((resolve) => child.stdout.once('data', resolve));

    child.stdout.destroy();
    child.stderr.destroy();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const aliveWhenSignalled = child.exitCode === null && child.signalCode === null;
    child.kill('SIGHUP');

    expect({ aliveWhenSignalled, ...(await exited) }).toEqual({ aliveWhenSignalled: true, code: 129, signal: null });
  }, 60_000);
});
