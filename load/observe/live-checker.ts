// Anomalies as they happen, for the live dashboard and the report's timeline. check() over the whole history
// costs ~400 ms at 30k operations on this machine (and blocks the event loop the load generator runs in), so it
// cannot run every second, and neither can check() over every touched user's whole history: that too grows with
// the history, and slowed the load it watches (p99 drifting up through a demo run). Each look judges, per user,
// only a window of operations whose size does not depend on the history's length; the last look (finish) judges
// the whole history once, with the final read and the snapshots, so the report's verdict and timeline are check()'s.
//
// The window (linearizable mode). register.ts: a history is linearizable iff no read is garbage and no two value
// clusters (a write and the reads that returned its value) precede each other, where X precedes Y when some member
// of X finishes before some member of Y starts. A look adds or completes operations, so every pair that
// contradicts now but did not at the last look has a touched cluster T (one with a member invoked or answered
// since) and another U with T preceding U: some member of U started after minFinish(T). So the window is every
// touched cluster plus every cluster with a member invoked after the earliest minFinish of the touched ones (with
// all of their members): it holds both clusters of every new contradicting pair, and check() of a sub-history
// flags a read for every pair in it (and only for real pairs: a pair in the window is a pair in the history). A
// garbage read is judged with its own (touched) cluster. Pairs that contradicted at an earlier look were reported
// then, and a finding is never withdrawn before the last look. So nothing is missed; which read of a pair a look
// blames may differ from check()'s choice over the whole history, and the last look settles it.
// In a correct run a touched cluster's value was in effect moments ago, so the window is the last moments of the
// user's history: constant work per operation (test/observability/live-checker.test.ts counts it at 1k and 100k
// operations). A read of the value before the load (minFinish -Infinity), a stale read far back, or session mode
// (whose violations are cycles through any number of clusters, sessions.ts) judges the user's whole history.
// A patched row is judged as check() judges it, one register per field (a write or patch setting the fields it
// names): its clusters and its window are per field, so its cost per operation is constant too (it was not while
// such a row was judged whole at every look: p99 of the load rose through a demo run with PATCH in its mix). A
// deleted row is judged whole at every look: it leaves the load's pools, so only operations under way touch it.
// A lookup that returned its target row is a read of that row's register, a member of the returned value's cluster.
// One that left its target out is a member of no cluster: check() flags it when the write that set the asked value
// completed before it began and nothing that changes the field (a write or patch of another value, a delete; not
// failed) was invoked before it ended without having ended before that write began. Its window: itself, that
// write, every operation invoked after that write began less the user's longest answered operation (any answered
// one that may have ended after the write began started then), and the user's writes still pending or of unknown
// outcome; so its cost is that of the moments around the write, constant in a correct run. A write that was
// pending (an excuse) and then fails excuses nothing: the user's missed lookups after it are judged again. Rows of
// other keys in a lookup's answer are judged on their value of the field alone (check() does the same).
//
// Bounded (keepPerUser, the sandbox: a whole workshop under load): a user's oldest operations are forgotten at a
// clean cut, where every operation before it had ended before any after it began and the value in effect is
// certain (the last effective write began after every earlier one had ended); that value becomes the user's
// initial value, what the kept operations are judged against. Anomalies already found stay. What is lost: a read of
// a value older than the cut is reported as garbage (a value the kept history never wrote), not as stale.
import { ANOMALY_KINDS, check, projected, projectValue, withField } from '../proof/checker/index.ts';
import type { AnomalyExample, AnomalyKind, Snapshot, Verdict } from '../proof/checker/index.ts';
import { EXAMPLES_PER_KIND } from '../proof/checker/types.ts';
import { ABSENT, Values } from '../proof/checker/values.ts';
import { isReadKind, observedAbsence } from '../proof/history.ts';
import type { FinalRead, HistoryRecorder, Op, RecordValue } from '../proof/history.ts';
import type { TimedAnomaly } from './report/report.ts';


/** One value's cluster: its write and the reads that returned it (register.ts), with the earliest finish among them. */
interface Cluster {
  members: Set<Op>;
  minFinish: number;
}

/** One register's value clusters: a user's whole row, or one field of a patched row. */
interface Register {
  clusters: Map<string, Cluster>;
  /** Clusters with a member invoked or answered since the last look. */
  touched: Set<string>;
  /** Lookups of this register's field that left their row out, answered since the last look (in no cluster). */
  missed?: Set<Op>;
  /** Every such lookup (judged again when a write that may have excused one fails). */
  allMissed?: Op[];
}

interface UserHistory extends Register {
  /** Every operation of the user (since the last cut, with keepPerUser), in invocation order. */
  ops: Op[];
  /**
   * The row has a PATCH: check() judges it one field at a time, a register per field (each write or patch setting
   * the fields it names), so its clusters are per field too, and so is its window; the whole-row clusters above
   * are no longer kept. Null until its first patch; the look after it judges the whole history once.
   */
  byField: Map<string, Register> | null;
  /** The next look judges the user's whole history (its registers were just rebuilt). */
  judgeWhole: boolean;
  /**
   * The row has a DELETE: check() maps "not found" to the delete's value once it may have taken effect, which the
   * clusters here do not follow, so each look judges the user's whole history (a row is deleted once, then leaves
   * the load's pools: only operations already under way touch it again), and it is never cut.
   */
  whole: boolean;
  /** The longest time any answered operation of the user took (to find the operations that may overlap a write). */
  longest: number;
  /** Writes, patches, creates and deletes still pending or of unknown outcome: they may take effect at any time. */
  open: Set<Op>;
  /** `field NUL value` -> the writes, patches and creates that set it (what a missed lookup asked for). */
  setters: Map<string, Op[]>;
}

/** The clusters an operation is a member of, as check() counts members: an answered read, an effective write, a PUT or PATCH answered 404 (a read of "absent"). */
function clusterKeys(values: Values, op: Op): string[] {
  if (op.f === 'read') return op.outcome === 'ok' && op.completeAt !== null ? [values.key(op.value)] : [];
  if (op.f === 'lookup') {
    const row = op.outcome === 'ok' && op.completeAt !== null ? op.found?.find((found) => found.key === op.key) : undefined;
    return row ? [values.key(row.value)] : [];
  }
  const keys = op.value && op.outcome !== 'fail' ? [values.key(op.value)] : [];
  if (observedAbsence(op)) keys.push(ABSENT);
  return keys;
}

function addToCluster(register: Register, key: string, op: Op): void {
  let cluster = register.clusters.get(key);
  if (!cluster) {
    cluster = { members: new Set(), minFinish: Infinity };
    register.clusters.set(key, cluster);
  }
  cluster.members.add(op);
  cluster.minFinish = Math.min(cluster.minFinish, finishOf(op));
  register.touched.add(key);
}

/** When a member finished; a write of unknown outcome (or still pending) never did. */
function finishOf(op: Op): number {
  if (op.completeAt === null) return Infinity;
  return isReadKind(op.f) || op.outcome === 'ok' || op.status === 404 ? op.completeAt : Infinity;
}

/** The field of a lookup answered without its target row, when `fields` holds it (check() judges it there), else null. */
function missedField(op: Op, fields: readonly string[]): string | null {
  if (op.f !== 'lookup' || op.outcome !== 'ok' || op.completeAt === null || op.truncated || op.found?.some((row) => row.key === op.key)) return null;
  const field = Object.keys(op.value ?? {})[0];
  return field !== undefined && fields.includes(field) ? field : null;
}

/** A lookup that left its row out: the next look judges it (registerWindow), and a failed write later judges it again. */
function noteMissed(register: Register, lookup: Op): void {
  (register.missed ??= new Set()).add(lookup);
  const all = (register.allMissed ??= []);
  if (!all.includes(lookup)) all.push(lookup);
}

const BATCH_USERS = 400;

export class LiveChecker {
  private readonly users = new Map<string, UserHistory>();
  /** Per user, every anomaly found so far, by kind, field (a patched row's) and anomalous operation. */
  private readonly findings = new Map<string, Map<string, AnomalyExample>>();
  private readonly undecided = new Set<Op>();
  private readonly unassigned = new Set<Op>();
  private readonly dirty = new Set<string>();
  private readonly initial = new Map<string, RecordValue>();
  /** The history's fields: values are keyed as check() keys them. */
  private readonly values: Values;
  /** Per field, its values alone: a patched row's registers are keyed as check() keys them one field at a time. */
  private readonly fieldValues: Map<string, Values>;
  private indexed = 0;
  private initialSeen = 0;
  /** Duration of the last update(), for the dashboard (and to see the cost stays small). */
  lastMs = 0;
  /** Operations handed to check() by the last update(): the work of a look, independent of the machine's speed. */
  lastOpsJudged = 0;

  constructor(
    /** `dropped`: operations that left the front of `ops` (HistoryRecorder's keepOps). */
    private readonly recorder: Pick<HistoryRecorder, 'fields' | 'ops' | 'initial' | 'pending'> & { dropped?: number },
    private readonly consistency?: 'session',
    /** Keep about this many of each user's most recent operations (the header says how); default all. */
    private readonly keepPerUser = Infinity,
  ) {
    this.values = new Values(recorder.fields);
    this.fieldValues = new Map(recorder.fields.map((field) => [field, new Values([field])]));
  }

  /** Operations held now, over every user (bounded by keepPerUser). */
  heldOps(): number {
    let held = 0;
    for (const user of this.users.values()) held += user.ops.length;
    return held;
  }

  /** Judges the window of every user touched since the last call. */
  update(): void {
    const started = performance.now();
    this.lastOpsJudged = 0;
    this.collect();
    const users = [...this.dirty];
    this.dirty.clear();
    const windows = new Map(users.map((rowKey) => [rowKey, this.window(rowKey)]));
    const whole = users.filter((rowKey) => Array.isArray(windows.get(rowKey)));
    const byField = users.filter((rowKey) => !Array.isArray(windows.get(rowKey)));
    for (let i = 0; i < whole.length; i += BATCH_USERS) {
      const batch = whole.slice(i, i + BATCH_USERS);
      this.recordExamples(this.judge(batch, batch.flatMap((rowKey) => windows.get(rowKey) as Op[])));
    }
    for (let i = 0; i < byField.length; i += BATCH_USERS) {
      const batch = byField.slice(i, i + BATCH_USERS);
      for (const field of this.recorder.fields) this.recordExamples(this.judgeField(field, batch, batch.flatMap((rowKey) => (windows.get(rowKey) as Map<string, Op[]>).get(field) ?? [])));
    }
    for (const rowKey of users) {
      const user = this.users.get(rowKey);
      if (user && !user.whole && !user.byField && user.ops.length > this.keepPerUser * 1.5) this.forgetOldest(rowKey, user);
    }
    this.lastMs = performance.now() - started;
  }

  /**
   * Judges every user's whole history once more, with the final read and the snapshots (what only the end can
   * show: lost writes, new ahead of old, phantom rows): the findings become exactly check()'s.
   */
  finish({ final, snapshots }: { final: FinalRead[]; snapshots: Snapshot[] }): void {
    this.lastOpsJudged = 0;
    this.collect();
    this.dirty.clear();
    this.findings.clear();
    const users = [...new Set([...this.users.keys(), ...this.initial.keys()])];
    for (let i = 0; i < users.length; i += BATCH_USERS) {
      const batch = users.slice(i, i + BATCH_USERS);
      const inBatch = new Set(batch);
      const ops = batch.flatMap((rowKey) => this.users.get(rowKey)?.ops ?? []);
      this.recordExamples(
        this.judge(batch, ops, {
          final: final.filter((read) => inBatch.has(read.key)),
          snapshots: snapshots.map((snapshot) => ({ ...snapshot, rows: snapshot.rows.filter((row) => inBatch.has(row.key)) })),
        }),
      );
    }
    this.judgeOrphanRows(final, snapshots);
  }

  private known(rowKey: string): boolean {
    return this.users.has(rowKey) || this.initial.has(rowKey);
  }

  /**
   * Rows no answered operation names: a create that never got its answer (a crash mid-request) may have made
   * one, half-made, and a row nothing explains is a phantom. check() attributes such a row to the unanswered
   * create that wrote its value; judged together.
   */
  private judgeOrphanRows(final: FinalRead[], snapshots: Snapshot[]): void {
    const orphanFinal = final.filter((read) => !this.known(read.key));
    const orphans = snapshots.map((snapshot) => ({ ...snapshot, rows: snapshot.rows.filter((row) => !this.known(row.key)) }));
    if (orphanFinal.length === 0 && orphans.every((snapshot) => snapshot.rows.length === 0)) return;
    const verdict = check({ fields: this.recorder.fields, ops: [...this.unassigned], final: orphanFinal, snapshots: orphans, ...(this.consistency ? { consistency: this.consistency } : {}) }, { examplesPerKind: Infinity });
    this.recordExamples(verdict);
  }

  byKind(): Record<AnomalyKind, number> {
    const counts = Object.fromEntries(ANOMALY_KINDS.map((kind) => [kind, 0])) as Record<AnomalyKind, number>;
    for (const user of this.findings.values()) for (const example of user.values()) counts[example.kind]++;
    return counts;
  }

  /** Every anomaly found (at most EXAMPLES_PER_KIND per user and kind, the first ones), oldest first. */
  timeline(): TimedAnomaly[] {
    const all: TimedAnomaly[] = [];
    for (const user of this.findings.values()) {
      const timed = [...user.values()].map((example) => {
        const anomalous = example.ops[0];
        return { kind: example.kind, at: anomalous?.completeAt ?? anomalous?.invokeAt ?? 0, step: example.step, key: example.key, message: example.message };
      });
      const listed = Object.fromEntries(ANOMALY_KINDS.map((kind) => [kind, 0])) as Record<AnomalyKind, number>;
      for (const anomaly of timed.sort((a, b) => a.at - b.at)) if (listed[anomaly.kind]++ < EXAMPLES_PER_KIND) all.push(anomaly);
    }
    return all.sort((a, b) => a.at - b.at);
  }

  private collect(): void {
    const { ops, initial } = this.recorder;
    for (; this.initialSeen < initial.length; this.initialSeen++) this.initial.set(initial[this.initialSeen]!.key, initial[this.initialSeen]!.value);
    const dropped = this.recorder.dropped ?? 0;
    // Operations that left the recorder's ring before a look are not judged live (a ring far larger than a
    // second of load never lets that happen).
    this.indexed = Math.max(this.indexed, dropped);
    for (; this.indexed < dropped + ops.length; this.indexed++) {
      const op = ops[this.indexed - dropped]!;
      this.undecided.add(op);
      this.assign(op);
    }
    const pending = new Set(this.recorder.pending().map((op) => op.id));
    for (const op of this.undecided) {
      if (pending.has(op.id)) continue;
      this.undecided.delete(op);
      // A create learns its user when it is answered.
      if (this.unassigned.has(op)) this.assign(op);
      else if (op.key !== null) this.place(this.users.get(op.key)!, op);
    }
  }

  private assign(op: Op): void {
    if (op.key === null) {
      this.unassigned.add(op);
      return;
    }
    this.unassigned.delete(op);
    let user = this.users.get(op.key);
    if (!user) {
      user = { ops: [], clusters: new Map(), touched: new Set(), byField: null, judgeWhole: false, whole: false, longest: 0, open: new Set(), setters: new Map() };
      this.users.set(op.key, user);
    }
    // In invocation order: only a create, assigned when answered, can come in late.
    let at = user.ops.length;
    while (at > 0 && user.ops[at - 1]!.invokeAt > op.invokeAt) at--;
    user.ops.splice(at, 0, op);
    this.place(user, op);
    this.dirty.add(op.key);
  }

  /** Files an operation (new, or just answered) in its clusters and marks them touched. */
  private place(user: UserHistory, op: Op): void {
    this.dirty.add(op.key!);
    if (op.f === 'delete') user.whole = true;
    const undecided = this.undecided.has(op);
    if (!undecided && op.completeAt !== null && op.outcome !== 'info') user.longest = Math.max(user.longest, op.completeAt - op.invokeAt);
    if (!isReadKind(op.f)) {
      if (undecided || op.outcome === 'info') user.open.add(op);
      else if (user.open.delete(op) && op.outcome === 'fail') {
        // It may have excused a missed lookup; it had no effect: judge them again.
        for (const register of [user, ...(user.byField?.values() ?? [])]) for (const lookup of register.allMissed ?? []) (register.missed ??= new Set()).add(lookup);
      }
      if (op.value && op.f !== 'delete' && op.outcome !== 'fail') {
        for (const [field, set] of Object.entries(op.value)) {
          const key = `${field}\u0000${set}`;
          const list = user.setters.get(key);
          if (!list) user.setters.set(key, [op]);
          else if (!list.includes(op)) list.push(op);
        }
      }
    }
    if (op.f === 'patch' && !user.byField) {
      // From now on one register per field, built from the user's whole history, which the next look judges.
      user.byField = new Map(this.recorder.fields.map((field) => [field, { clusters: new Map(), touched: new Set() }]));
      user.clusters = new Map();
      user.touched = new Set();
      user.judgeWhole = true;
      for (const earlier of user.ops) if (earlier !== op) this.placeByField(user.byField, earlier);
    }
    if (user.byField) {
      this.placeByField(user.byField, op);
      return;
    }
    for (const key of clusterKeys(this.values, op)) addToCluster(user, key, op);
    if (missedField(op, this.recorder.fields) !== null) noteMissed(user, op);
  }

  /** Files an operation in each field's register, as check() projects it (a patch bears only on the fields it sets). */
  private placeByField(byField: Map<string, Register>, op: Op): void {
    for (const [field, register] of byField) {
      const bearing = projected(op, field);
      if (!bearing) continue;
      for (const key of clusterKeys(this.fieldValues.get(field)!, bearing)) addToCluster(register, key, op);
      if (missedField(bearing, [field]) !== null) noteMissed(register, op);
    }
  }

  /** Forgets a user's oldest operations, up to the last clean cut that keeps at least keepPerUser (see the header). */
  private forgetOldest(rowKey: string, user: UserHistory): void {
    const { ops } = user;
    let ended = -Infinity;
    let writesEnded = -Infinity;
    let last: Op | null = null;
    let certain = true;
    let cut = 0;
    let cutValue: Op | null = null;
    for (let i = 0; i < ops.length - this.keepPerUser; i++) {
      const op = ops[i]!;
      // Still pending, or a write that may take effect at any time later: no cut at or after it.
      if (this.undecided.has(op) || (!isReadKind(op.f) && op.outcome === 'info')) break;
      ended = Math.max(ended, op.completeAt ?? Infinity);
      if (!isReadKind(op.f) && op.outcome === 'ok') {
        certain = op.invokeAt > writesEnded;
        last = op;
        writesEnded = Math.max(writesEnded, op.completeAt ?? Infinity);
      }
      if (certain && ended < ops[i + 1]!.invokeAt) {
        cut = i + 1;
        cutValue = last;
      }
    }
    if (cut === 0) return;
    if (cutValue?.value) this.initial.set(rowKey, cutValue.value);
    user.ops = ops.slice(cut);
    const touched = new Set(user.touched);
    const missed = user.missed;
    user.clusters = new Map();
    user.touched = new Set();
    user.allMissed = [];
    user.setters = new Map();
    for (const op of user.ops) this.place(user, op);
    user.missed = missed;
    user.touched = new Set([...touched].filter((key) => user.clusters.has(key)));
    // Judged already: placing the kept operations again is no news.
    this.dirty.delete(rowKey);
  }

  /**
   * The operations a look judges for one user (the header says why they suffice): for a row judged whole, a list;
   * for a patched row, each field's window (a field judged alone is a register like any row).
   */
  private window(rowKey: string): Op[] | Map<string, Op[]> {
    const user = this.users.get(rowKey);
    if (!user) return [];
    const { byField } = user;
    if (this.consistency || user.whole || (byField && user.judgeWhole)) {
      user.judgeWhole = false;
      user.touched.clear();
      for (const register of byField?.values() ?? []) register.touched.clear();
      return user.ops;
    }
    const initial = this.initial.get(rowKey);
    if (!byField) return this.registerWindow(user, user, this.values, this.values.key(initial), (op) => op, initial);
    const windows = new Map<string, Op[]>();
    for (const [field, register] of byField) {
      const values = this.fieldValues.get(field)!;
      const initialKey = values.key(initial ? projectValue(initial, field) : undefined);
      windows.set(field, this.registerWindow(user, register, values, initialKey, (op) => projected(op, field), initial));
    }
    return windows;
  }

  /**
   * One register's window: its touched clusters, and every cluster with a member invoked after the earliest
   * minFinish of those. `project`: the operation as it bears on the register (null: not at all).
   */
  private registerWindow(user: UserHistory, register: Register, values: Values, initialKey: string, project: (op: Op) => Op | null, initial: RecordValue | undefined): Op[] {
    let since = Infinity;
    for (const key of register.touched) since = Math.min(since, key === initialKey ? -Infinity : register.clusters.get(key)!.minFinish);
    const keys = new Set(register.touched);
    register.touched.clear();
    const extra = new Set<Op>();
    for (const lookup of register.missed ?? []) {
      extra.add(lookup);
      const field = missedField(lookup, values.fields)!;
      const asked = lookup.value![field]!;
      // The write that set the asked value and had completed when the lookup began (the latest such), as check() picks it.
      let setBy: Op | null = null;
      for (const op of user.setters.get(`${field}\u0000${asked}`) ?? []) {
        if (op.outcome === 'ok' && op.completeAt !== null && op.completeAt < lookup.invokeAt && (!setBy || op.invokeAt > setBy.invokeAt)) setBy = op;
      }
      if (setBy) {
        since = Math.min(since, setBy.invokeAt - user.longest);
        extra.add(setBy);
      } else if (initial?.[field] === asked) {
        since = -Infinity;
      }
      for (const op of user.open) {
        const bearing = project(op);
        if (!bearing) continue;
        extra.add(op);
        for (const key of clusterKeys(values, bearing)) keys.add(key);
      }
    }
    register.missed?.clear();
    // Every operation invoked after `since`: the whole history, without looking at each one.
    if (since < user.ops[0]!.invokeAt) return user.ops.filter((op) => project(op) !== null);
    for (let i = user.ops.length - 1; i >= 0 && user.ops[i]!.invokeAt > since; i--) {
      const bearing = project(user.ops[i]!);
      if (bearing) for (const key of clusterKeys(values, bearing)) keys.add(key);
    }
    const window = new Set<Op>(extra);
    for (const key of keys) for (const op of register.clusters.get(key)?.members ?? []) window.add(op);
    return [...window];
  }

  private judge(users: string[], ops: Op[], end?: { final: FinalRead[]; snapshots: Snapshot[] }): Verdict {
    this.lastOpsJudged += ops.length;
    const initial = users.flatMap((rowKey) => {
      const value = this.initial.get(rowKey);
      return value ? [{ key: rowKey, value }] : [];
    });
    return check(
      { fields: this.recorder.fields, ops: ops.sort((a, b) => a.id - b.id), initial, ...(this.consistency ? { consistency: this.consistency } : {}), ...(end ?? {}) },
      { examplesPerKind: Infinity },
    );
  }

  /**
   * Judges one field of patched rows over their windows for it, as check() judges a patched row's field: the
   * examples name the field even when the window holds no patch (check() would judge such a sub-history whole).
   */
  private judgeField(field: string, users: string[], ops: Op[]): Verdict {
    this.lastOpsJudged += ops.length;
    const initial = users.flatMap((rowKey) => {
      const value = this.initial.get(rowKey);
      return value ? [{ key: rowKey, value: projectValue(value, field)! }] : [];
    });
    const verdict = check(
      { fields: [field], ops: ops.sort((a, b) => a.id - b.id).flatMap((op) => projected(op, field) ?? []), initial },
      { examplesPerKind: Infinity },
    );
    for (const kind of ANOMALY_KINDS) {
      verdict.examples[kind] = verdict.examples[kind].map((example) => (example.field === undefined ? withField(example, field) : example));
    }
    return verdict;
  }

  /** Files each example of a verdict under its user, once per kind and anomalous operation. */
  private recordExamples(verdict: Verdict): void {
    for (const kind of ANOMALY_KINDS) {
      for (const example of verdict.examples[kind]) {
        let found = this.findings.get(example.key);
        if (!found) {
          found = new Map();
          this.findings.set(example.key, found);
        }
        // A patched row's read can be anomalous in each of its fields: check() counts each field's finding.
        // A lookup's row found by a value it does not hold is garbage beside what its read of the row may be.
        const mismatch = example.reason.startsWith('found by a lookup') ? ' found by' : '';
        found.set(`${kind} ${example.field ?? ''} ${example.ops[0]?.opId ?? example.message}${mismatch}`, example);
      }
    }
  }
}
