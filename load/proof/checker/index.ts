// The consistency checker: a recorded history (plus the values before the load, a final read and database
// snapshots) in, a verdict out. Per user, an exact linearizability check of a register with unique values
// (register.ts), or in session mode an exact check of the session guarantees (sessions.ts); per snapshot row,
// new-ahead-of-old and drift (snapshots.ts); a row nobody wrote is a phantom. Imports no app code: the history
// names the fields of its values (CheckInput.fields), and snapshot rows come in the same shape (values.ts).
import { compareKeys } from '../history.ts';
import type { Op } from '../history.ts';
import { checkRegister, memberRef } from './register.ts';
import type { RegisterFinding, RegisterRead, RegisterWrite, UserRegister } from './register.ts';
import { checkSessions } from './sessions.ts';
import { checkSnapshots } from './snapshots.ts';
import { ANOMALY_KINDS, EXAMPLES_PER_KIND, FINAL_STEP } from './types.ts';
import type { AnomalyExample, AnomalyKind, CheckInput, StepSummary, Verdict } from './types.ts';
import { ABSENT, Values, WriteIndex } from './values.ts';
import type { Observed } from './values.ts';

export type { AnomalyExample, AnomalyKind, CheckInput, DriftExample, Snapshot, SnapshotRow, StepSummary, Verdict } from './types.ts';
export { ANOMALY_KINDS } from './types.ts';

export { FINAL_STEP } from './types.ts';

const zeroByKind = (): Record<AnomalyKind, number> => Object.fromEntries(ANOMALY_KINDS.map((kind) => [kind, 0])) as Record<AnomalyKind, number>;

function emptyStep(): StepSummary {
  return { ops: 0, acknowledgedWrites: 0, reads: 0, failedRequests: 0, unknownOutcomes: 0, anomalies: 0, byKind: zeroByKind(), drift: 0 };
}

function initialWrite(value: Observed, values: Values): RegisterWrite {
  return { type: 'write', op: null, key: values.key(value), value: value ?? null, invokeAt: -Infinity, completeAt: -Infinity };
}

function exampleOf(key: string, finding: RegisterFinding, values: Values): AnomalyExample {
  const read = finding.read;
  return {
    kind: finding.kind,
    reason: finding.reason,
    message: finding.message,
    key,
    step: read.final ? FINAL_STEP : read.op!.step,
    ops: [memberRef({ role: 'anomalous', member: read }, values), ...finding.witnesses.map((witness) => memberRef(witness, values))],
  };
}

/**
 * Unanswered creates have no id: a final or snapshot row of an unknown id is theirs when it holds their value
 * (each create explains one row). A row that neither an operation nor an unanswered create explains is a phantom
 * write, reported once, where it first appears (snapshots in the order taken, then the final read).
 */
function attributeRows(input: CheckInput, index: WriteIndex, known: Set<string>): { createdRow: Map<number, string>; phantoms: AnomalyExample[] } {
  const { values } = index;
  /** Operation id of an unanswered create -> the key of the row it made. */
  const createdRow = new Map<number, string>();
  const phantoms = new Map<string, AnomalyExample>();
  const claimed = new Set<number>();
  const consider = (key: string, seen: Observed[], where: { step: string; at: number; what: string }) => {
    if (known.has(key) || phantoms.has(key)) return;
    for (const value of seen) {
      const create = index.unansweredCreates(value).find((op) => !claimed.has(op.id));
      if (create) {
        claimed.add(create.id);
        createdRow.set(create.id, key);
        known.add(key);
        return;
      }
    }
    const shown = seen[0] ?? null;
    phantoms.set(key, {
      kind: 'phantom',
      reason: 'a row that no operation names and no unanswered create explains',
      message: `row ${key}: ${where.what} holds ${values.describe(shown)}, but no operation of the history names row ${key} and no unanswered create wrote that value`,
      key,
      step: where.step,
      ops: [{ role: `row ${key}`, opId: null, f: where.what, value: values.shown(shown), invokeAt: where.at, completeAt: where.at, step: where.step }],
    });
  };
  for (const snapshot of [...(input.snapshots ?? [])].sort((a, b) => a.takenAt - b.takenAt)) {
    for (const row of snapshot.rows) {
      const seen = [values.oldColumns(row.old), typeof row.new === 'string' ? null : row.new].filter((v) => v);
      consider(row.key, seen, { step: snapshot.step, at: snapshot.takenAt, what: `the snapshot at ${snapshot.step}` });
    }
  }
  for (const final of input.final ?? []) if (final.value) consider(final.key, [final.value], { step: FINAL_STEP, at: final.at, what: 'the final read' });
  return { createdRow, phantoms: [...phantoms.values()] };
}

/** examplesPerKind: how many examples of each kind the verdict lists (the live checker asks for all of them). */
export function check(input: CheckInput, { examplesPerKind = EXAMPLES_PER_KIND }: { examplesPerKind?: number } = {}): Verdict {
  const ops = input.ops;
  const values = new Values(input.fields);
  const index = new WriteIndex(values, ops);
  const initialByUser = new Map((input.initial ?? []).map((u) => [u.key, u.value]));
  const known = new Set<string>(initialByUser.keys());
  for (const op of ops) if (op.key !== null) known.add(op.key);
  let lastTime = 0;
  for (const op of ops) lastTime = Math.max(lastTime, op.invokeAt, op.completeAt ?? -Infinity);
  const finalAt = lastTime + 1;
  const { createdRow, phantoms } = attributeRows(input, index, known);
  const keyOf = (op: Op) => op.key ?? createdRow.get(op.id) ?? null;

  const registers = new Map<string, UserRegister>();
  const register = (key: string) => {
    let found = registers.get(key);
    if (!found) {
      found = { rowKey: key, initial: initialWrite(initialByUser.get(key) ?? null, values), writes: [], reads: [] };
      registers.set(key, found);
    }
    return found;
  };
  for (const key of [...known].sort(compareKeys)) register(key);

  for (const op of ops) {
    const key = keyOf(op);
    if (key === null) continue;
    const user = register(key);
    const completeAt = op.outcome === 'ok' && op.completeAt !== null ? op.completeAt : Infinity;
    if (op.f !== 'read') {
      if (op.outcome !== 'fail' && op.value) {
        user.writes.push({ type: 'write', op, key: values.key(op.value), value: op.value, invokeAt: op.invokeAt, completeAt });
      } else if (op.outcome === 'fail' && op.f === 'write' && op.status === 404 && op.completeAt !== null) {
        // A PUT answered 404 had no effect, but it observed that the user did not exist.
        user.reads.push({ type: 'read', op, final: null, key: ABSENT, value: null, invokeAt: op.invokeAt, completeAt: op.completeAt });
      }
    } else if (op.outcome === 'ok' && op.completeAt !== null) {
      user.reads.push({ type: 'read', op, final: null, key: values.key(op.value), value: op.value ?? null, invokeAt: op.invokeAt, completeAt: op.completeAt });
    }
  }

  const finalReadChecked = (input.final?.length ?? 0) > 0;
  if (finalReadChecked) {
    const finalByUser = new Map(input.final!.map((f) => [f.key, f]));
    for (const user of registers.values()) {
      // A user the final read did not find is a user whose row is gone.
      const final = finalByUser.get(user.rowKey) ?? { key: user.rowKey, value: null, at: finalAt };
      const read: RegisterRead = { type: 'read', op: null, final, key: values.key(final.value), value: final.value, invokeAt: finalAt, completeAt: finalAt };
      user.reads.push(read);
    }
  }

  const examples: AnomalyExample[] = [...phantoms];
  const crossSession: AnomalyExample[] = [];
  const sessions = input.consistency === 'session';
  for (const user of registers.values()) {
    if (!sessions) {
      for (const finding of checkRegister(user, index)) examples.push(exampleOf(user.rowKey, finding, values));
      continue;
    }
    const findings = checkSessions(user, index);
    for (const finding of findings) examples.push(exampleOf(user.rowKey, finding, values));
    // What linearizability alone would add: staleness across sessions, information by design (not the final
    // read: it is judged against every write above).
    const judged = new Set(findings.map((finding) => finding.read));
    for (const finding of checkRegister(user, index)) {
      if (finding.fromOrder && !finding.read.final && !judged.has(finding.read)) crossSession.push(exampleOf(user.rowKey, finding, values));
    }
  }
  const snapshots = checkSnapshots(input.snapshots ?? [], registers, index);
  examples.push(...snapshots.anomalies);

  const perStep: Record<string, StepSummary> = {};
  const stepOf = (step: string) => (perStep[step] ??= emptyStep());
  const byKind = zeroByKind();
  const statusCounts: Record<string, number> = {};
  const versions = new Set<string>();
  const instances = new Set<string>();
  const totals = { acknowledgedWrites: 0, reads: 0, unknownOutcomes: 0, failedRequests: 0 };
  let retries = 0;
  const retriedOk = new Set(ops.filter((op) => op.retryOf !== undefined && op.outcome === 'ok').map((op) => op.retryOf));
  const count = (step: StepSummary, what: keyof typeof totals) => {
    step[what]++;
    totals[what]++;
  };
  for (const op of ops) {
    const step = stepOf(op.step);
    step.ops++;
    if (op.outcome === 'ok') count(step, op.f === 'read' ? 'reads' : 'acknowledgedWrites');
    if (op.outcome === 'info') count(step, 'unknownOutcomes');
    if (op.outcome !== 'ok' && !retriedOk.has(op.id)) count(step, 'failedRequests');
    if (op.retries) retries++;
    if (op.version) versions.add(op.version);
    if (op.instance) instances.add(op.instance);
    const status = op.status !== undefined ? String(op.status) : (op.error ?? 'no answer');
    statusCounts[status] = (statusCounts[status] ?? 0) + 1;
  }
  for (const final of input.final ?? []) {
    if (final.version) versions.add(final.version);
    if (final.instance) instances.add(final.instance);
  }
  for (const example of examples) {
    byKind[example.kind]++;
    const step = stepOf(example.step);
    step.anomalies++;
    step.byKind[example.kind]++;
  }
  for (const drift of snapshots.drift) stepOf(drift.step).drift++;

  const examplesByKind = Object.fromEntries(ANOMALY_KINDS.map((kind) => [kind, [] as AnomalyExample[]])) as Record<AnomalyKind, AnomalyExample[]>;
  const firstTime = (example: AnomalyExample) => example.ops[0]?.invokeAt ?? 0;
  for (const example of [...examples].sort((a, b) => firstTime(a) - firstTime(b))) {
    const list = examplesByKind[example.kind];
    if (list.length < examplesPerKind) list.push(example);
  }

  return {
    anomalies: examples.length,
    byKind,
    examples: examplesByKind,
    drift: snapshots.drift.length,
    driftExamples: snapshots.drift.slice(0, EXAMPLES_PER_KIND),
    users: registers.size,
    operations: ops.length,
    ...totals,
    retries,
    versionsSeen: [...versions].sort(),
    instancesSeen: [...instances].sort(),
    statusCounts,
    finalReadChecked,
    snapshotsChecked: input.snapshots?.length ?? 0,
    perStep,
    ...(sessions
      ? {
          consistency: 'session' as const,
          crossSession: {
            reads: crossSession.length,
            byKind: crossSession.reduce((counts, e) => ((counts[e.kind]++, counts)), zeroByKind()),
            examples: crossSession.slice(0, EXAMPLES_PER_KIND),
          },
        }
      : {}),
  };
}
