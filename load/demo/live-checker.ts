// Anomalies as they happen, for the live dashboard and the report's timeline. check() over the whole history
// costs ~400 ms at 30k operations on this machine (and blocks the event loop the load generator runs in), so it
// cannot run every second. The checker judges each user's register on its own, so a user whose operations did
// not change keeps its findings: each look re-judges only the users with new or newly completed operations, in
// batches. A batch without anomalies (the usual case) is one check() call; a batch whose examples were cut at
// EXAMPLES_PER_KIND is split until every anomaly is listed, so every anomaly gets its own time on the chart.
import { ANOMALY_KINDS, check } from '../checker/index.ts';
import type { AnomalyExample, AnomalyKind, Snapshot, Verdict } from '../checker/index.ts';
import type { FinalRead, HistoryRecorder, Op, UserValue } from '../history.ts';

export interface TimedAnomaly {
  kind: AnomalyKind;
  /** On the history's clock: when the anomalous read completed (a snapshot: when it was taken). */
  at: number;
  step: string;
  userId: number;
  message: string;
}

interface UserFindings {
  byKind: Partial<Record<AnomalyKind, number>>;
  examples: AnomalyExample[];
}

const BATCH_USERS = 400;

export class LiveChecker {
  private readonly opsByUser = new Map<number, Op[]>();
  private readonly findings = new Map<number, UserFindings>();
  private readonly undecided = new Set<Op>();
  private readonly unassigned = new Set<Op>();
  private readonly dirty = new Set<number>();
  private readonly initial = new Map<number, UserValue>();
  private indexed = 0;
  private initialSeen = 0;
  /** Duration of the last update(), for the dashboard (and to see the cost stays small). */
  lastMs = 0;

  constructor(
    private readonly recorder: Pick<HistoryRecorder, 'ops' | 'initial' | 'pending'>,
    private readonly consistency?: 'session',
  ) {}

  /** Re-judges the users touched since the last call. */
  update(): void {
    const started = performance.now();
    this.collect();
    this.judge([...this.dirty]);
    this.dirty.clear();
    this.lastMs = performance.now() - started;
  }

  /** Judges every user once more with the final read and the snapshots (what only the end can show: lost writes, new ahead of old). */
  finish({ final, snapshots }: { final: FinalRead[]; snapshots: Snapshot[] }): void {
    this.collect();
    for (const read of final) this.dirty.add(read.userId);
    for (const snapshot of snapshots) for (const row of snapshot.rows) if (this.opsByUser.has(row.id) || this.initial.has(row.id)) this.dirty.add(row.id);
    this.judge([...this.dirty], { final, snapshots });
    this.dirty.clear();
    this.judgeOrphanRows(snapshots);
  }

  /**
   * Rows no answered operation names: a create that never got its answer (a crash mid-request) may have made
   * one, half-made. check() attributes such a row to the unanswered create that wrote its value; judged together.
   */
  private judgeOrphanRows(snapshots: Snapshot[]): void {
    const known = (id: number) => this.opsByUser.has(id) || this.initial.has(id);
    const orphans = snapshots.map((snapshot) => ({ ...snapshot, rows: snapshot.rows.filter((row) => !known(row.id)) }));
    if (orphans.every((snapshot) => snapshot.rows.length === 0)) return;
    const verdict = check({ ops: [...this.unassigned], snapshots: orphans, ...(this.consistency ? { consistency: this.consistency } : {}) });
    this.recordExamples(verdict);
  }

  byKind(): Record<AnomalyKind, number> {
    const counts = Object.fromEntries(ANOMALY_KINDS.map((kind) => [kind, 0])) as Record<AnomalyKind, number>;
    for (const user of this.findings.values()) for (const kind of ANOMALY_KINDS) counts[kind] += user.byKind[kind] ?? 0;
    return counts;
  }

  /** Every anomaly found (at most EXAMPLES_PER_KIND per user and kind), oldest first. */
  timeline(): TimedAnomaly[] {
    const all: TimedAnomaly[] = [];
    for (const user of this.findings.values()) {
      for (const example of user.examples) {
        const anomalous = example.ops[0];
        all.push({ kind: example.kind, at: anomalous?.completeAt ?? anomalous?.invokeAt ?? 0, step: example.step, userId: example.userId, message: example.message });
      }
    }
    return all.sort((a, b) => a.at - b.at);
  }

  private collect(): void {
    const { ops, initial } = this.recorder;
    for (; this.initialSeen < initial.length; this.initialSeen++) this.initial.set(initial[this.initialSeen]!.userId, initial[this.initialSeen]!.value);
    for (; this.indexed < ops.length; this.indexed++) {
      const op = ops[this.indexed]!;
      this.undecided.add(op);
      this.assign(op);
    }
    const pending = new Set(this.recorder.pending().map((op) => op.id));
    for (const op of this.undecided) {
      if (pending.has(op.id)) continue;
      this.undecided.delete(op);
      // A create learns its user when it is answered.
      if (this.unassigned.has(op)) this.assign(op);
      else if (op.userId !== null) this.dirty.add(op.userId);
    }
  }

  private assign(op: Op): void {
    if (op.userId === null) {
      this.unassigned.add(op);
      return;
    }
    this.unassigned.delete(op);
    const list = this.opsByUser.get(op.userId);
    if (list) list.push(op);
    else this.opsByUser.set(op.userId, [op]);
    this.dirty.add(op.userId);
  }

  private judge(users: number[], end?: { final: FinalRead[]; snapshots: Snapshot[] }): void {
    for (let i = 0; i < users.length; i += BATCH_USERS) this.judgeBatch(users.slice(i, i + BATCH_USERS), end);
  }

  private judgeBatch(users: number[], end?: { final: FinalRead[]; snapshots: Snapshot[] }): void {
    if (users.length === 0) return;
    const inBatch = new Set(users);
    const ops = users.flatMap((user) => this.opsByUser.get(user) ?? []).sort((a, b) => a.id - b.id);
    const initial = users.flatMap((userId) => {
      const value = this.initial.get(userId);
      return value ? [{ userId, value }] : [];
    });
    const verdict = check({
      ops,
      initial,
      ...(this.consistency ? { consistency: this.consistency } : {}),
      ...(end
        ? {
            final: end.final.filter((read) => inBatch.has(read.userId)),
            snapshots: end.snapshots.map((snapshot) => ({ ...snapshot, rows: snapshot.rows.filter((row) => inBatch.has(row.id)) })),
          }
        : {}),
    });
    const cut = ANOMALY_KINDS.some((kind) => verdict.byKind[kind] > verdict.examples[kind].length);
    if (cut && users.length > 1) {
      const half = Math.ceil(users.length / 2);
      this.judgeBatch(users.slice(0, half), end);
      this.judgeBatch(users.slice(half), end);
      return;
    }
    for (const user of users) this.findings.delete(user);
    if (verdict.anomalies === 0) return;
    if (users.length === 1) {
      this.findings.set(users[0]!, { byKind: { ...verdict.byKind }, examples: ANOMALY_KINDS.flatMap((kind) => verdict.examples[kind]) });
      return;
    }
    this.recordExamples(verdict);
  }

  /** Files each example of a verdict under its user (a verdict that covered several users). */
  private recordExamples(verdict: Verdict): void {
    for (const kind of ANOMALY_KINDS) {
      for (const example of verdict.examples[kind]) {
        const found = this.findings.get(example.userId) ?? { byKind: {}, examples: [] };
        found.byKind[kind] = (found.byKind[kind] ?? 0) + 1;
        found.examples.push(example);
        this.findings.set(example.userId, found);
      }
    }
  }
}
