// What an attendee can do in the sandbox (make workshop), from the dashboard's controls or POST /api/<action>:
// move the rollout (advance, roll back: the gate's refusal is the answer), set read-new-percent, start, stop
// (SIGTERM, a drain) and kill (SIGKILL) instances, start a v2 with an anti-pattern, start, pause and resume a
// throttled backfill, run verify. Each action is validated here (a bad field is a 400 naming it), recorded in
// the history (a step event: the requests after it carry its name), marked on the charts, appended to
// actions.jsonl and published to every open dashboard. The building blocks are the demo's and the rollout's own
// (load/run/fleet.ts, shared/rollout/transitions.ts, shared/rollout/flag-gate.ts, cli/backfill.ts, cli/verify.ts).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { ANTI_PATTERNS } from '../../shared/config.ts';
import type { Database } from '../../shared/db/connection.ts';
import { gatedFlagWrite } from '../../shared/rollout/flag-gate.ts';
import { transition } from '../../shared/rollout/transitions.ts';
import type { Fleet, Slot } from '../run/fleet.ts';
import type { Observation } from '../observe/observation.ts';
import { runTool, spawnTool } from '../run/operator.ts';
import type { HistoryRecorder } from '../proof/history.ts';

export type ActionOutcome = 'done' | 'refused' | 'failed';

export interface ActionRecord {
  id: number;
  /** Seconds since the sandbox started (the charts' clock). */
  at: number;
  /** On the history's clock, to find the action nearest before an anomaly. */
  atMs: number;
  action: string;
  title: string;
  outcome: ActionOutcome;
  /** What happened, or the gate's refusal. */
  detail: string;
}

export interface ActionAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** A 400: the input named by `field` is wrong. */
export class InputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Not replica-reads (no replica in the sandbox), nor those about PATCH, DELETE and lookups (its load sends none),
 * nor one-way-trigger: it is no v2 behaviour to start an instance with (an instance refuses it) but how the sync
 * triggers are installed, once, under SYNC=trigger, which the sandbox's rollout does not record.
 */
export const SANDBOX_ANTI_PATTERNS = ANTI_PATTERNS.filter((a) => a !== 'replica-reads' && a !== 'patch-new-only' && a !== 'upsert-repair' && a !== 'lookup-new-early' && a !== 'one-way-trigger');

export const ACTIONS = [
  'rollout-advance',
  'rollout-rollback',
  'read-new-percent',
  'instance-start',
  'instance-stop',
  'instance-kill',
  'anti-pattern-start',
  'backfill-start',
  'backfill-pause',
  'backfill-resume',
  'verify',
] as const;
export type ActionName = (typeof ACTIONS)[number];

export interface SandboxControlsOptions {
  db: Database;
  fleet: Fleet;
  recorder: HistoryRecorder;
  observation: Pick<Observation, 'publish' | 'step' | 'secondsAt'>;
  /** The instances' and tools' environment: DATABASE_URL, LOG_LEVEL. */
  env: Record<string, string>;
  /** actions.jsonl goes here. */
  logFile: string;
  /** The backfill's throttle: about a minute over the seeded table. */
  backfill: { batch: number; sleepMs: number };
  /** How long advance/rollback wait for every instance to load the new flags. */
  waitTimeoutMs?: number;
  /** Each action's line for the terminal. */
  print?: (line: string) => void;
}

function body(input: unknown): Record<string, unknown> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new InputError('body', 'the body must be a JSON object');
  return input as Record<string, unknown>;
}

function percentField(input: Record<string, unknown>, { required }: { required: boolean }): number | undefined {
  const value = input.percent;
  if (value === undefined || value === null || value === '') {
    if (required) throw new InputError('percent', 'percent is required: an integer from 0 to 100');
    return undefined;
  }
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 100) throw new InputError('percent', `percent must be an integer from 0 to 100 (got ${JSON.stringify(value)})`);
  return n;
}

const running = (slot: Slot) => slot.instance !== undefined && slot.instance.child.exitCode === null && slot.instance.child.signalCode === null;

export class SandboxControls {
  readonly actions: ActionRecord[] = [];
  private backfillProcess: ChildProcess | null = null;
  private backfillOutput = '';
  /** One action at a time: two clicks at once must not both take the last free slot. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly antiPatterns = new Map<string, string>();

  constructor(private readonly options: SandboxControlsOptions) {
    fs.writeFileSync(options.logFile, '');
  }

  /** The fleet as the controls show it: every slot, whether it runs, and with which anti-pattern. */
  fleetView(): { name: string; version: string; running: boolean; antiPattern: string | null }[] {
    return this.options.fleet.slots.map((slot) => ({ name: slot.name, version: slot.version, running: running(slot), antiPattern: running(slot) ? (this.antiPatterns.get(slot.name) ?? null) : null }));
  }

  backfillRunning(): boolean {
    return this.backfillProcess !== null;
  }

  /** Validates and performs one action; never throws (a failure is an answer). */
  perform(name: string, input: unknown): Promise<ActionAnswer> {
    const run = this.queue.then(() => this.performNow(name, input));
    this.queue = run.catch(() => {});
    return run;
  }

  private async performNow(name: string, input: unknown): Promise<ActionAnswer> {
    if (!(ACTIONS as readonly string[]).includes(name)) return { status: 404, body: { error: { code: 'unknown_action', field: 'action', message: `no action ${JSON.stringify(name)}: one of ${ACTIONS.join(', ')}` } } };
    let args: Record<string, unknown>;
    let plan: { title: string; act: () => Promise<{ outcome: ActionOutcome; detail: string; status?: number }> };
    try {
      args = body(input);
      plan = this.plan(name as ActionName, args);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return { status: 400, body: { error: { code: 'invalid_input', field: err.field, message: err.message } } };
    }
    // Recorded before it runs: the requests it affects already carry its name in the history.
    const { recorder, observation } = this.options;
    const id = this.actions.length + 1;
    const step = `action-${id}-${name}`;
    const atMs = recorder.now();
    recorder.currentStep = step;
    observation.step(id, step, plan.title, `#${id} ${name}`);
    let result: { outcome: ActionOutcome; detail: string; status?: number };
    try {
      result = await plan.act();
    } catch (err) {
      result = { outcome: 'failed', detail: (err as Error).message, status: 500 };
    }
    const record: ActionRecord = { id, at: observation.secondsAt(atMs), atMs, action: name, title: plan.title, outcome: result.outcome, detail: result.detail };
    this.actions.push(record);
    fs.appendFileSync(this.options.logFile, `${JSON.stringify(record)}\n`);
    observation.publish('action', { action: record, fleet: this.fleetView() });
    this.options.print?.(`action #${id} @${record.at}s ${plan.title}: ${result.outcome}${result.detail ? `: ${result.detail}` : ''}`);
    const status = result.status ?? (result.outcome === 'done' ? 200 : result.outcome === 'refused' ? 409 : 500);
    return { status, body: { ...record, fleet: this.fleetView() } };
  }

  private plan(name: ActionName, args: Record<string, unknown>): { title: string; act: () => Promise<{ outcome: ActionOutcome; detail: string; status?: number }> } {
    switch (name) {
      case 'rollout-advance':
      case 'rollout-rollback': {
        const action = name === 'rollout-advance' ? 'advance' : 'rollback';
        const percent = percentField(args, { required: false });
        return { title: `rollout ${action}${percent === undefined ? '' : ` --percent ${percent}`}`, act: () => this.transition(action, percent) };
      }
      case 'read-new-percent': {
        const percent = percentField(args, { required: true })!;
        return {
          title: `set read-new-percent ${percent}`,
          act: async () => {
            const written = await gatedFlagWrite(this.options.db, { 'read-new-percent': percent }, 'workshop-dashboard');
            return written.ok ? { outcome: 'done', detail: `flag set version ${written.version}` } : { outcome: 'refused', detail: written.refusal };
          },
        };
      }
      case 'instance-start': {
        const version = args.version;
        if (version !== 'v1' && version !== 'v2') throw new InputError('version', `version must be v1 or v2 (got ${JSON.stringify(version)})`);
        return { title: `start a ${version}`, act: () => this.start(version, null) };
      }
      case 'anti-pattern-start': {
        const antiPattern = args.antiPattern;
        if (typeof antiPattern !== 'string' || !(SANDBOX_ANTI_PATTERNS as readonly string[]).includes(antiPattern)) {
          throw new InputError('antiPattern', `antiPattern must be one of ${SANDBOX_ANTI_PATTERNS.join(', ')} (got ${JSON.stringify(antiPattern)})`);
        }
        return { title: `start a v2 with the anti-pattern ${antiPattern}`, act: () => this.start('v2', antiPattern) };
      }
      case 'instance-stop':
      case 'instance-kill': {
        const instance = args.instance;
        const slot = typeof instance === 'string' ? this.options.fleet.slots.find((s) => s.name === instance) : undefined;
        if (!slot) throw new InputError('instance', `instance must be one of ${this.options.fleet.slots.map((s) => s.name).join(', ')} (got ${JSON.stringify(instance)})`);
        const signal = name === 'instance-stop' ? 'SIGTERM' : 'SIGKILL';
        return {
          title: name === 'instance-stop' ? `stop ${slot.name} (SIGTERM: it drains)` : `kill ${slot.name} (SIGKILL: its requests in flight get no answer)`,
          act: async () => {
            if (!running(slot)) return { outcome: 'refused', detail: `${slot.name} is not running` };
            const exit = await this.options.fleet.stop(slot.name, signal);
            this.antiPatterns.delete(slot.name);
            return { outcome: 'done', detail: `${slot.name} exited (${exit.signal ?? `code ${exit.code}`}) after ${exit.ms} ms` };
          },
        };
      }
      case 'backfill-start':
        return { title: `start the backfill (--batch ${this.options.backfill.batch} --sleep-ms ${this.options.backfill.sleepMs})`, act: () => this.startBackfill() };
      case 'backfill-pause':
      case 'backfill-resume': {
        const pause = name === 'backfill-pause';
        return {
          title: pause ? 'pause the backfill (flag backfill-pause true)' : 'resume the backfill (flag backfill-pause false)',
          act: async () => {
            const written = await gatedFlagWrite(this.options.db, { 'backfill-pause': pause }, 'workshop-dashboard');
            return written.ok ? { outcome: 'done', detail: `flag set version ${written.version}${this.backfillRunning() ? '' : ' (no backfill is running now)'}` } : { outcome: 'refused', detail: written.refusal };
          },
        };
      }
      case 'verify':
        return {
          title: 'run verify',
          act: async () => {
            const result = await runTool('verify', [], this.options.env, { quiet: true });
            const lines = result.output.trim().split('\n').filter(Boolean);
            // Its summary lines (drift counts, the verdict), not the rows it lists.
            const summary = lines.filter((line) => /^\s*(drift|verdict):/.test(line));
            const detail = `exit ${result.code}: ${(summary.length > 0 ? summary : lines.slice(-2)).map((line) => line.trim()).join(' / ')}`;
            // Drift is an answer, not a failure of the action: verify exits 1 when it finds some.
            return { outcome: result.code === 0 || result.code === 1 ? 'done' : 'failed', detail, status: 200 };
          },
        };
    }
  }

  private async transition(action: 'advance' | 'rollback', percent: number | undefined): Promise<{ outcome: ActionOutcome; detail: string }> {
    const result = await transition(this.options.db, action, { ...(percent === undefined ? {} : { percent }), waitTimeoutMs: this.options.waitTimeoutMs ?? 15_000, actor: 'workshop-dashboard' });
    switch (result.outcome) {
      case 'completed':
        return { outcome: 'done', detail: `${result.from.label} -> ${result.to.label} (flag-set version ${result.version}, loaded by every instance after ${result.waitedMs} ms)` };
      case 'refused':
        return { outcome: 'refused', detail: `${result.from.label}${result.to ? ` -> ${result.to.label}` : ''}: ${result.reasons.join('; ')}` };
      case 'manual':
        return { outcome: 'refused', detail: `the next step from ${result.from.label} is not a flag change: ${result.command}` };
      case 'timed-out':
        return { outcome: 'failed', detail: `flag-set version ${result.version} is written, but not every instance has loaded it yet` };
    }
  }

  private async start(version: 'v1' | 'v2', antiPattern: string | null): Promise<{ outcome: ActionOutcome; detail: string }> {
    const slot = this.options.fleet.slots.find((s) => s.version === version && !running(s));
    if (!slot) return { outcome: 'refused', detail: `every ${version} slot of the balancer is taken: stop or kill one first` };
    const instance = await this.options.fleet.start(slot.name, antiPattern ? { ANTI_PATTERN: antiPattern } : {});
    if (antiPattern) this.antiPatterns.set(slot.name, antiPattern);
    else this.antiPatterns.delete(slot.name);
    return { outcome: 'done', detail: `${slot.name} serves at ${instance.url}${antiPattern ? ` with ANTI_PATTERN=${antiPattern}` : ''}` };
  }

  private async startBackfill(): Promise<{ outcome: ActionOutcome; detail: string }> {
    if (this.backfillProcess) return { outcome: 'refused', detail: 'a backfill is already running: pause or resume it' };
    const { batch, sleepMs } = this.options.backfill;
    const latestRun = async () => Number((await this.options.db.select<{ id: number | null }>('SELECT MAX(id) AS id FROM backfill_runs'))[0]?.id ?? 0);
    const before = await latestRun();
    const child = spawnTool('backfill', ['--batch', String(batch), '--sleep-ms', String(sleepMs), '--progress-interval-ms', '5000'], { ...process.env, ...this.options.env });
    this.backfillProcess = child;
    this.backfillOutput = '';
    const collect = (chunk: Buffer) => (this.backfillOutput = (this.backfillOutput + chunk.toString()).slice(-4000));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    // The answer waits until the backfill has its checkpoint row (the stage is backfill from then on), or until
    // it exits first: a refusal by its gate, or a table so small it is done.
    let exitCode: number | null | undefined;
    child.once('exit', (code) => (exitCode = code));
    const deadline = Date.now() + 60_000;
    while (exitCode === undefined && (await latestRun()) === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    const early: number | null | 'running' = exitCode === undefined ? 'running' : exitCode;
    const lastLine = () => this.backfillOutput.trim().split('\n').filter(Boolean).at(-1) ?? '';
    if (early !== 'running') {
      this.backfillProcess = null;
      return early === 0 ? { outcome: 'done', detail: `finished: ${lastLine()}` } : { outcome: 'refused', detail: lastLine() || `exit ${early}` };
    }
    child.once('exit', (code) => {
      this.backfillProcess = null;
      const line = `backfill exited ${code}: ${lastLine()}`;
      this.options.print?.(line);
      this.options.observation.publish('notice', { at: this.options.observation.secondsAt(this.options.recorder.now()), text: line });
    });
    return { outcome: 'done', detail: `running as run #${await latestRun()} (pid ${child.pid}); progress on the backfill tile` };
  }
}
