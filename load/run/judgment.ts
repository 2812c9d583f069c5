// The rule every runner (make demo, make chaos, run-load) shares: a run passes only if each part of the judgment
// it has actually ran. The checker judges what it is given, so a final read that failed, or a snapshot that was
// never taken, would otherwise pass by saying nothing: lost writes, or rows nobody looked at, go unjudged. Each
// runner lists its parts, records whether each one ran (and why not), and fails naming the parts that did not.
import { check } from '../proof/checker/index.ts';
import type { Snapshot, Verdict } from '../proof/checker/index.ts';
import { readFinalValues } from '../proof/generator.ts';
import type { HistoryRecorder } from '../proof/history.ts';

/**
 * final read: every user read once more after the load stopped (judges lost writes and the end state).
 * per-step snapshots: a database snapshot at the end of every step that began (judges new-ahead-of-old).
 * final snapshot: the rows after the load stopped, judged like any other snapshot.
 */
export const JUDGMENT_PARTS = ['final read', 'per-step snapshots', 'final snapshot'] as const;
export type JudgmentPart = (typeof JUDGMENT_PARTS)[number];

export class Judgment {
  private readonly outcomes = new Map<JudgmentPart, { ran: true; detail: string } | { ran: false; why: string }>();

  /** `runner` names the command in the lines it prints; `parts`: what this runner's judgment consists of. */
  constructor(
    readonly runner: string,
    readonly parts: readonly JudgmentPart[],
  ) {}

  ran(part: JudgmentPart, detail = ''): void {
    this.outcomes.set(part, { ran: true, detail });
  }

  notRun(part: JudgmentPart, why: string): void {
    this.outcomes.set(part, { ran: false, why });
  }

  /** Runs `take`; if it throws, the part did not run (the reason is kept) and undefined is returned. */
  async attempt<T>(part: JudgmentPart, take: () => Promise<T>, detail: (value: T) => string = () => ''): Promise<T | undefined> {
    try {
      const value = await take();
      this.ran(part, detail(value));
      return value;
    } catch (err) {
      this.notRun(part, (err as Error).message);
      return undefined;
    }
  }

  /**
   * Cross-checks the verdict: a part counts as run only if the checker actually received it (a final read of no
   * user, or snapshots lost on the way, do not count). `snapshots`: how many snapshots the runner gave the checker.
   */
  confirm(verdict: Verdict, snapshots: number): void {
    if (this.parts.includes('final read') && this.outcomes.get('final read')?.ran && !verdict.finalReadChecked) {
      this.notRun('final read', 'the checker received no final value (no user was read)');
    }
    if (verdict.snapshotsChecked !== snapshots) {
      for (const part of ['per-step snapshots', 'final snapshot'] as const) {
        if (this.parts.includes(part) && this.outcomes.get(part)?.ran) this.notRun(part, `the checker judged ${verdict.snapshotsChecked} of ${snapshots} snapshots`);
      }
    }
  }

  /** One line per required part that did not run (or was never recorded), naming it: empty when all ran. */
  missing(): string[] {
    return this.parts.flatMap((part) => {
      const outcome = this.outcomes.get(part);
      if (!outcome) return [`${part}: did not run`];
      return outcome.ran ? [] : [`${part}: did not run (${outcome.why})`];
    });
  }

  /** What was judged, one line: each part with what it covered, and the parts this runner does not have. */
  describe(): string {
    const have = this.parts.map((part) => {
      const outcome = this.outcomes.get(part);
      return `${part}: ${outcome?.ran ? `ran${outcome.detail ? ` (${outcome.detail})` : ''}` : 'DID NOT RUN'}`;
    });
    const absent = this.parts.some((p) => p !== 'final read') ? [] : ['snapshots: not applicable'];
    return `judgment (${this.runner}): ${[...have, ...absent].join('; ')}`;
  }
}

/**
 * The end of every run, in one place (make demo, make chaos, run-load): the history's last step is "final",
 * the final snapshot (where the runner has database access), then the final read of every user the history
 * names, the history closed, and the checker's verdict over all of it, cross-checked by the runner's Judgment.
 * The load must already be stopped (in-flight requests answered). Never throws for a part that fails: that
 * part did not run, and the run fails naming it.
 */
export async function judgeRun({
  runner,
  recorder,
  snapshots,
  finalSnapshot,
  beforeFinalRead,
  finalReadFrom,
  perStepSnapshots,
  consistency,
}: {
  runner: string;
  recorder: HistoryRecorder;
  /** The snapshots taken so far (the final one is appended here). */
  snapshots: Snapshot[];
  /** Takes the final snapshot (a runner without database access has none). */
  finalSnapshot?: () => Promise<Snapshot>;
  /** Runs after the final snapshot, before the final read (a replica catching up); its failure is returned. */
  beforeFinalRead?: () => Promise<void>;
  /** Where the final read goes (the balancer); null when none was started. */
  finalReadFrom: string | null;
  /** The steps that began: each must have a snapshot (the demo's per-step snapshots). */
  perStepSnapshots?: string[];
  consistency?: 'linearizable' | 'session';
}): Promise<{ verdict: Verdict; judgment: Judgment; failure: string | null }> {
  const parts: JudgmentPart[] = ['final read', ...(perStepSnapshots ? (['per-step snapshots'] as const) : []), ...(finalSnapshot ? (['final snapshot'] as const) : [])];
  const judgment = new Judgment(runner, parts);
  let failure: string | null = null;
  recorder.currentStep = 'final';
  if (perStepSnapshots) {
    const unsnapped = perStepSnapshots.filter((s) => !snapshots.some((snapshot) => snapshot.step === s));
    if (unsnapped.length > 0) judgment.notRun('per-step snapshots', `no snapshot at the end of ${unsnapped.join(', ')}`);
    else judgment.ran('per-step snapshots', `${perStepSnapshots.length} steps`);
  }
  if (finalSnapshot) {
    const taken = await judgment.attempt('final snapshot', finalSnapshot, (snapshot) => `${snapshot.rows.length} rows`);
    if (taken) snapshots.push(taken);
  }
  if (beforeFinalRead) await beforeFinalRead().catch((err: Error) => (failure = err.message));
  if (finalReadFrom) {
    const keys = recorder.keys();
    recorder.recordFinal((await judgment.attempt('final read', () => readFinalValues(finalReadFrom, keys, { fields: recorder.fields }), (reads) => `${reads.length} users`)) ?? []);
  } else {
    judgment.notRun('final read', 'no balancer was started');
  }
  await recorder.close();
  const verdict = check({ fields: recorder.fields, ops: recorder.ops, initial: recorder.initial, final: recorder.final, snapshots, ...(consistency ? { consistency } : {}) });
  judgment.confirm(verdict, snapshots.length);
  return { verdict, judgment, failure };
}

/** Whether the run passed, and its last line: PASSED with what was judged, or FAILED naming every reason. */
export function conclude(verdict: Verdict, { reasons, budget }: { reasons: string[]; budget: number }): { passed: boolean; line: string } {
  const passed = reasons.length === 0 && verdict.anomalies === 0 && verdict.failedRequests <= budget;
  const line = passed
    ? `PASSED: ${verdict.acknowledgedWrites} acknowledged writes, ${verdict.reads} reads, 0 anomalies, ${verdict.failedRequests} failed requests.`
    : `FAILED: ${reasons.map((reason) => `${reason}; `).join('')}${verdict.anomalies} anomalies, ${verdict.failedRequests} failed requests (budget ${budget}).`;
  return { passed, line };
}
