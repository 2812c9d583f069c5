// The consistency checker: a recorded history (plus the values before the load, a final read and database
// snapshots) in, a verdict out. Per user, an exact linearizability check of a register with unique values
// (register.ts), or in session mode an exact check of the session guarantees (sessions.ts); per snapshot row,
// new-ahead-of-old and drift (snapshots.ts); a row nobody wrote is a phantom. Imports no app code: the history
// names the fields of its values (CheckInput.fields), and snapshot rows come in the same shape (values.ts).
import { compareKeys, isReadKind, observedAbsence as observesAbsence } from '../history.ts';
import type { Op, RecordValue } from '../history.ts';
import { checkRegister, describeFailed, memberRef, opRef } from './register.ts';
import type { RegisterFinding, RegisterWrite, UserRegister } from './register.ts';
import { checkSessions } from './sessions.ts';
import { checkSnapshots } from './snapshots.ts';
import { ANOMALY_KINDS, EXAMPLES_PER_KIND, FINAL_STEP } from './types.ts';
import type { AnomalyExample, AnomalyKind, CheckInput, DriftExample, StepSummary, Verdict } from './types.ts';
import { ABSENT, DELETED, Values, WriteIndex } from './values.ts';
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

/**
 * A patched row judged one field at a time: the operation as it bears on `field` alone (a write or patch that sets
 * it writes that field's value; a read observes it), or null when it does not bear on it (a patch of other
 * fields; one answered 404 still observed that the row was not there, in every field).
 */
export function projected(op: Op, field: string): Op | null {
  // A lookup keeps what it asked for (judged only where that field is judged: lookupFindings); its rows are reads.
  if (op.f === 'lookup') return op.found ? { ...op, found: op.found.map((row) => ({ key: row.key, value: projectValue(row.value, field)! })) } : op;
  if (op.f === 'patch' && op.value && !(field in op.value)) {
    if (op.outcome !== 'fail' || op.status !== 404) return null;
    const { value: _value, ...rest } = op;
    return rest;
  }
  return op.value ? { ...op, value: { [field]: op.value[field] } as RecordValue } : op;
}

export const projectValue = <V extends Readonly<Record<string, unknown>> | null>(value: V, field: string) => (value === null ? null : ({ [field]: value[field] } as RecordValue));

/** An example found judging one field of a patched row: it names the field, in its own field and its message. */
export const withField = (example: AnomalyExample, field: string): AnomalyExample => ({ ...example, field, message: `field ${field}: ${example.message}` });

/** A lookup's parameter, when it is a field of the history (else the checker cannot tell what a row's value of it is). */
function lookupField(op: Op, fields: readonly string[]): string | null {
  const param = Object.keys(op.value ?? {})[0];
  return param !== undefined && fields.includes(param) ? param : null;
}


/** Whether an operation may change a row's value of `field` away from `asked`: a delete, or a write or patch of another value of it. */
function changesAway(op: Op, field: string, asked: string): boolean {
  if (op.outcome === 'fail') return false;
  if (op.f === 'delete') return true;
  if (op.f !== 'create' && op.f !== 'write' && op.f !== 'patch') return false;
  return !!op.value && field in op.value && op.value[field] !== asked;
}

/**
 * What a lookup says beyond the reads of its target row (judged in its register): a row it returned whose value of
 * the asked field is not the one asked for is garbage (found by a value it does not hold); the row it was made to
 * find, missing from a complete answer, is stale when the write (or patch, or the value before the load) that set
 * the asked value completed before the lookup began, and no operation that may change that field (a write or patch
 * of another value of it, a delete; of any outcome but fail) was invoked before the lookup completed without having
 * completed before that write began. Judged only when the lookup's parameter is a field of `fields` (a patched row's
 * other fields, judged one at a time, skip it). `patched`: rows judged per field, whose examples name the field.
 */
function lookupFindings(input: CheckInput, keyOf: (op: Op) => string | null, patched: ReadonlySet<string>): AnomalyExample[] {
  const values = new Values(input.fields);
  const lookups = input.ops.filter((op) => op.f === 'lookup' && op.outcome === 'ok' && op.completeAt !== null && lookupField(op, input.fields) !== null);
  if (lookups.length === 0) return [];
  const byRow = new Map<string, Op[]>();
  for (const op of input.ops) {
    const key = keyOf(op);
    if (key === null || isReadKind(op.f)) continue;
    const list = byRow.get(key);
    if (list) list.push(op);
    else byRow.set(key, [op]);
  }
  const initialByRow = new Map((input.initial ?? []).map((u) => [u.key, u.value]));
  const examples: AnomalyExample[] = [];
  for (const lookup of lookups) {
    const field = lookupField(lookup, input.fields)!;
    const asked = lookup.value![field]!;
    const target = keyOf(lookup);
    const named = (example: AnomalyExample) => (patched.has(example.key) && input.fields.length > 1 ? withField(example, field) : example);
    for (const row of lookup.found ?? []) {
      if (row.value?.[field] === asked) continue;
      examples.push(
        named({
          kind: 'garbage',
          reason: 'found by a lookup for a value it does not hold',
          message: `user ${row.key}: lookup #${lookup.id} for ${JSON.stringify(asked)} returned it with ${values.describe(row.value)}`,
          key: row.key,
          step: lookup.step,
          ops: [opRef(lookup, 'anomalous', row.value, values)],
        }),
      );
    }
    if (target === null || lookup.truncated || (lookup.found ?? []).some((row) => row.key === target)) continue;
    const ops = byRow.get(target) ?? [];
    // The write that set the asked value and certainly took effect before the lookup began (the latest, if several did).
    let setBy: Op | null = null;
    for (const op of ops) {
      if (op.f === 'delete' || op.outcome !== 'ok' || op.completeAt === null || op.completeAt >= lookup.invokeAt || op.value?.[field] !== asked) continue;
      if (!setBy || op.invokeAt > setBy.invokeAt) setBy = op;
    }
    const setAt = setBy ? setBy.invokeAt : initialByRow.get(target)?.[field] === asked ? -Infinity : null;
    if (setAt === null) continue;
    const excuse = ops.find((op) => op !== setBy && op.invokeAt < lookup.completeAt! && changesAway(op, field, asked) && !(op.outcome === 'ok' && op.completeAt !== null && op.completeAt < setAt));
    if (excuse) continue;
    const setter = setBy ? `${setBy.f} #${setBy.id} of ${JSON.stringify(asked)} [${setBy.invokeAt.toFixed(1)}–${setBy.completeAt!.toFixed(1)} ms]` : `the value before the load, ${JSON.stringify(asked)}`;
    examples.push(
      named({
        kind: 'stale',
        reason: 'missed by a lookup: the row was not in the answer, though the write of the value asked for took effect before the lookup began and nothing could have changed it since',
        message: `user ${target}: lookup #${lookup.id} for ${JSON.stringify(asked)} [${lookup.invokeAt.toFixed(1)}–${lookup.completeAt!.toFixed(1)} ms] did not return the row, but ${setter} completed before it began and nothing that changes ${field} could have taken effect before it ended`,
        key: target,
        step: lookup.step,
        ops: [opRef(lookup, 'anomalous', null, values), ...(setBy ? [opRef(setBy, 'wrote the value asked for, completed before the lookup began', setBy.value ?? null, values)] : [])],
      }),
    );
  }
  return examples;
}

/** What one judging pass found: anomalies, reads stale across sessions (session mode), drift. */
interface Judged {
  examples: AnomalyExample[];
  crossSession: AnomalyExample[];
  drift: DriftExample[];
}

/**
 * Judges the rows `keys` of a history whose values have `input.fields`: one register per row, its final read,
 * and the snapshots' rows. `field` names the field when a patched row is judged one field at a time.
 */
function judge(input: CheckInput, keys: readonly string[], keyOf: (op: Op) => string | null, finalAt: number, field?: string): Judged {
  const values = new Values(input.fields);
  const index = new WriteIndex(values, input.ops);
  const judged = new Set(keys);
  const initialByUser = new Map((input.initial ?? []).map((u) => [u.key, u.value]));

  // A row is deleted at most once (the load never deletes a row twice): its delete's value is then unique.
  const deleteOf = new Map<string, Op>();
  for (const op of input.ops) {
    const key = keyOf(op);
    if (op.f !== 'delete' || op.outcome === 'fail' || key === null || !judged.has(key)) continue;
    const earlier = deleteOf.get(key);
    if (earlier) throw new Error(`user ${key}: deleted twice (operations #${earlier.id} and #${op.id}); the checker needs at most one delete per row`);
    deleteOf.set(key, op);
  }
  /** Which "not found" an observation that completed at `at` saw: the delete's, once it may have taken effect. */
  const absence = (key: string, at: number) => {
    const deletion = deleteOf.get(key);
    return deletion && at >= deletion.invokeAt ? DELETED : ABSENT;
  };

  const registers = new Map<string, UserRegister>();
  for (const key of keys) registers.set(key, { rowKey: key, initial: initialWrite(initialByUser.get(key) ?? null, values), writes: [], reads: [] });
  for (const op of input.ops) {
    const key = keyOf(op);
    const user = key === null ? undefined : registers.get(key);
    if (!user || key === null) continue;
    const completeAt = op.outcome === 'ok' && op.completeAt !== null ? op.completeAt : Infinity;
    if (op.f === 'lookup') {
      // The row it was made to find, if answered: a read of it like any other (other rows: lookupFindings).
      const row = op.outcome === 'ok' && op.completeAt !== null ? op.found?.find((found) => found.key === key) : undefined;
      if (row) user.reads.push({ type: 'read', op, final: null, key: values.key(row.value), value: row.value, invokeAt: op.invokeAt, completeAt: op.completeAt! });
    } else if (op.f === 'delete') {
      if (op.outcome !== 'fail') user.writes.push({ type: 'write', op, key: DELETED, value: null, invokeAt: op.invokeAt, completeAt });
    } else if (op.f !== 'read') {
      if (op.outcome !== 'fail' && op.value) {
        user.writes.push({ type: 'write', op, key: values.key(op.value), value: op.value, invokeAt: op.invokeAt, completeAt });
      } else if (op.outcome === 'fail' && (op.f === 'write' || op.f === 'patch') && op.status === 404 && op.completeAt !== null) {
        // A PUT or PATCH answered 404 had no effect, but it observed that the user did not exist.
        user.reads.push({ type: 'read', op, final: null, key: absence(key, op.completeAt), value: null, invokeAt: op.invokeAt, completeAt: op.completeAt });
      }
    } else if (op.outcome === 'ok' && op.completeAt !== null) {
      const seen = op.value ? values.key(op.value) : absence(key, op.completeAt);
      user.reads.push({ type: 'read', op, final: null, key: seen, value: op.value ?? null, invokeAt: op.invokeAt, completeAt: op.completeAt });
    }
  }

  if ((input.final?.length ?? 0) > 0) {
    const finalByUser = new Map(input.final!.map((f) => [f.key, f]));
    for (const user of registers.values()) {
      // A user the final read did not find is a user whose row is gone.
      const final = finalByUser.get(user.rowKey) ?? { key: user.rowKey, value: null, at: finalAt };
      const seen = final.value ? values.key(final.value) : absence(user.rowKey, finalAt);
      user.reads.push({ type: 'read', op: null, final, key: seen, value: final.value, invokeAt: finalAt, completeAt: finalAt });
    }
  }

  const named = (example: AnomalyExample): AnomalyExample => (field === undefined ? example : withField(example, field));
  const examples: AnomalyExample[] = [];
  const crossSession: AnomalyExample[] = [];
  const sessions = input.consistency === 'session';
  for (const user of registers.values()) {
    if (!sessions) {
      for (const finding of checkRegister(user, index)) examples.push(named(exampleOf(user.rowKey, finding, values)));
      continue;
    }
    const findings = checkSessions(user, index);
    for (const finding of findings) examples.push(named(exampleOf(user.rowKey, finding, values)));
    // What linearizability alone would add: staleness across sessions, information by design (not the final
    // read: it is judged against every write above).
    const seen = new Set(findings.map((finding) => finding.read));
    for (const finding of checkRegister(user, index)) {
      if (finding.fromOrder && !finding.read.final && !seen.has(finding.read)) crossSession.push(named(exampleOf(user.rowKey, finding, values)));
    }
  }
  const snapshots = checkSnapshots(input.snapshots ?? [], registers, index);
  examples.push(...snapshots.anomalies.map(named));
  return { examples, crossSession, drift: snapshots.drift };
}

/** examplesPerKind: how many examples of each kind the verdict lists (the live checker asks for all of them). */
export function check(input: CheckInput, { examplesPerKind = EXAMPLES_PER_KIND }: { examplesPerKind?: number } = {}): Verdict {
  const ops = input.ops;
  const values = new Values(input.fields);
  const index = new WriteIndex(values, ops);
  const known = new Set<string>((input.initial ?? []).map((u) => u.key));
  for (const op of ops) if (op.key !== null) known.add(op.key);
  let lastTime = 0;
  for (const op of ops) lastTime = Math.max(lastTime, op.invokeAt, op.completeAt ?? -Infinity);
  const finalAt = lastTime + 1;
  const { createdRow, phantoms } = attributeRows(input, index, known);
  const keyOf = (op: Op) => op.key ?? createdRow.get(op.id) ?? null;

  // A row with a PATCH holds fields of different writes by design, so it is judged one field at a time: a register
  // per field, each write or patch writing the fields it names. Exact per field; what it cannot see is a torn
  // whole write on such a row that no single field's order shows (docs/consistency-checker.md). Every other row
  // is judged whole, where a value mixing two writes is garbage.
  const patched = new Set<string>();
  for (const op of ops) {
    const key = keyOf(op);
    if (op.f === 'patch' && key !== null) patched.add(key);
  }
  const keys = [...known].sort(compareKeys);
  const whole = judge(input, patched.size > 0 ? keys.filter((key) => !patched.has(key)) : keys, keyOf, finalAt);
  const examples: AnomalyExample[] = [...phantoms, ...whole.examples, ...lookupFindings({ ...input, ops }, keyOf, patched)];
  const crossSession = [...whole.crossSession];
  const drift = [...whole.drift];
  if (patched.size > 0) {
    const rows = keys.filter((key) => patched.has(key));
    const driftSeen = new Set(drift.map((d) => `${d.key} ${d.takenAt}`));
    for (const field of input.fields) {
      const byField = judge(
        {
          ...input,
          fields: [field],
          ops: ops.flatMap((op) => projected(op, field) ?? []),
          initial: (input.initial ?? []).map((u) => ({ ...u, value: projectValue(u.value, field)! })),
          final: input.final?.map((f) => ({ ...f, value: projectValue(f.value, field) })),
          snapshots: input.snapshots?.map((snapshot) => ({
            ...snapshot,
            rows: snapshot.rows.filter((row) => patched.has(row.key)).map((row) => ({ ...row, old: row.old && { [field]: row.old[field] ?? null }, new: row.new === null || typeof row.new === 'string' ? row.new : projectValue(row.new, field) })),
          })),
        },
        rows,
        keyOf,
        finalAt,
        field,
      );
      examples.push(...byField.examples);
      crossSession.push(...byField.crossSession);
      // A row drifts once per snapshot, however many of its fields differ.
      for (const d of byField.drift) {
        if (driftSeen.has(`${d.key} ${d.takenAt}`)) continue;
        driftSeen.add(`${d.key} ${d.takenAt}`);
        drift.push(d);
      }
    }
  }
  const sessions = input.consistency === 'session';
  const finalReadChecked = (input.final?.length ?? 0) > 0;

  const perStep: Record<string, StepSummary> = {};
  const stepOf = (step: string) => (perStep[step] ??= emptyStep());
  const byKind = zeroByKind();
  const statusCounts: Record<string, number> = {};
  const versions = new Set<string>();
  const instances = new Set<string>();
  const totals = { acknowledgedWrites: 0, reads: 0, unknownOutcomes: 0, failedRequests: 0 };
  const failedExamples: string[] = [];
  let lookups = 0;
  let retries = 0;
  const retriedOk = new Set(ops.filter((op) => op.retryOf !== undefined && op.outcome === 'ok').map((op) => op.retryOf));
  const count = (step: StepSummary, what: keyof typeof totals) => {
    step[what]++;
    totals[what]++;
  };
  for (const op of ops) {
    const step = stepOf(op.step);
    step.ops++;
    // A PUT or PATCH answered 404 observed that the row was gone (a DELETE won the race): judged as a read of
    // "absent" above (an anomaly if the row was not deleted), so a read here, not a failed request.
    const observedAbsence = observesAbsence(op);
    if (op.outcome === 'ok' || observedAbsence) count(step, isReadKind(op.f) || observedAbsence ? 'reads' : 'acknowledgedWrites');
    if (op.outcome === 'info') count(step, 'unknownOutcomes');
    if (op.outcome !== 'ok' && !observedAbsence && !retriedOk.has(op.id)) {
      count(step, 'failedRequests');
      if (failedExamples.length < EXAMPLES_PER_KIND) failedExamples.push(describeFailed(op));
    }
    if (op.f === 'lookup' && op.outcome === 'ok') lookups++;
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
  for (const example of drift) stepOf(example.step).drift++;

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
    drift: drift.length,
    driftExamples: drift.slice(0, EXAMPLES_PER_KIND),
    users: known.size,
    operations: ops.length,
    ...totals,
    failedExamples,
    lookups,
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
