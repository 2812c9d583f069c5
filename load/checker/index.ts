// The consistency checker: a recorded history (plus the values before the load, a final read and database
// snapshots) in, a verdict out. Per user, an exact linearizability check of a register with unique values
// (register.ts); per snapshot row, new-ahead-of-old and drift (snapshots.ts). Imports no app code.
import type { FinalRead, Op } from '../history.ts';
import { checkRegister, memberRef } from './register.ts';
import type { RegisterFinding, RegisterRead, RegisterWrite, UserRegister, Witness } from './register.ts';
import { checkSnapshots } from './snapshots.ts';
import { ANOMALY_KINDS, EXAMPLES_PER_KIND, FINAL_STEP } from './types.ts';
import type { AnomalyExample, AnomalyKind, CheckInput, OpRef, StepSummary, Verdict } from './types.ts';
import { ABSENT, normalizeProfileData, oldColumnsValue, shownValue, valueKey, WriteIndex } from './values.ts';
import type { Observed } from './values.ts';

export type { AnomalyExample, AnomalyKind, CheckInput, DriftExample, Snapshot, SnapshotRow, StepSummary, Verdict } from './types.ts';
export { ANOMALY_KINDS } from './types.ts';

export { FINAL_STEP } from './types.ts';

const zeroByKind = (): Record<AnomalyKind, number> => ({ stale: 0, nonMonotonic: 0, garbage: 0, lost: 0, newAheadOfOld: 0 });

function emptyStep(): StepSummary {
  return { ops: 0, acknowledgedWrites: 0, reads: 0, failedRequests: 0, unknownOutcomes: 0, anomalies: 0, byKind: zeroByKind(), drift: 0 };
}

function initialWrite(value: Observed): RegisterWrite {
  return { type: 'write', op: null, key: valueKey(value), value: value ?? null, invokeAt: -Infinity, completeAt: -Infinity };
}

function exampleOf(userId: number, finding: RegisterFinding): AnomalyExample {
  const read = finding.read;
  return {
    kind: finding.kind,
    reason: finding.reason,
    message: finding.message,
    userId,
    step: read.final ? FINAL_STEP : read.op!.step,
    ops: [memberRef({ role: 'anomalous', member: read }), ...finding.witnesses.map(memberRef)],
  };
}

/** Unanswered creates have no id: a final or snapshot row of an unknown id is theirs when it holds their value. */
function attributeUnansweredCreates(input: CheckInput, index: WriteIndex, known: Set<number>): { createdRow: Map<number, number>; unattributed: number } {
  const createdRow = new Map<number, number>();
  const unattributed = new Set<number>();
  const claimed = new Set<number>();
  const consider = (id: number, values: Observed[]) => {
    if (known.has(id)) return;
    for (const value of values) {
      const create = index.unansweredCreates(value).find((op) => !claimed.has(op.id));
      if (create) {
        claimed.add(create.id);
        createdRow.set(create.id, id);
        known.add(id);
        unattributed.delete(id);
        return;
      }
    }
    unattributed.add(id);
  };
  for (const final of input.final ?? []) consider(final.userId, [final.value]);
  for (const snapshot of input.snapshots ?? []) {
    for (const row of snapshot.rows) {
      const profile = normalizeProfileData(row.profileData);
      consider(row.id, [oldColumnsValue(row), 'value' in profile ? profile.value : null].filter((v) => v));
    }
  }
  return { createdRow, unattributed: unattributed.size };
}

export function check(input: CheckInput): Verdict {
  const ops = input.ops;
  const index = new WriteIndex(ops);
  const initialByUser = new Map((input.initial ?? []).map((u) => [u.userId, u.value]));
  const known = new Set<number>(initialByUser.keys());
  for (const op of ops) if (op.userId !== null) known.add(op.userId);
  const { createdRow, unattributed } = attributeUnansweredCreates(input, index, known);
  const userOf = (op: Op) => op.userId ?? createdRow.get(op.id) ?? null;

  const registers = new Map<number, UserRegister>();
  const register = (userId: number) => {
    let found = registers.get(userId);
    if (!found) {
      found = { userId, initial: initialWrite(initialByUser.get(userId) ?? null), writes: [], reads: [] };
      registers.set(userId, found);
    }
    return found;
  };
  for (const userId of [...known].sort((a, b) => a - b)) register(userId);

  let lastTime = 0;
  for (const op of ops) {
    lastTime = Math.max(lastTime, op.invokeAt, op.completeAt ?? -Infinity);
    const userId = userOf(op);
    if (userId === null) continue;
    const user = register(userId);
    const completeAt = op.outcome === 'ok' && op.completeAt !== null ? op.completeAt : Infinity;
    if (op.f !== 'read') {
      if (op.outcome !== 'fail' && op.value) {
        user.writes.push({ type: 'write', op, key: valueKey(op.value), value: op.value, invokeAt: op.invokeAt, completeAt });
      } else if (op.outcome === 'fail' && op.f === 'write' && op.status === 404 && op.completeAt !== null) {
        // A PUT answered 404 had no effect, but it observed that the user did not exist.
        user.reads.push({ type: 'read', op, final: null, key: ABSENT, value: null, invokeAt: op.invokeAt, completeAt: op.completeAt });
      }
    } else if (op.outcome === 'ok' && op.completeAt !== null) {
      user.reads.push({ type: 'read', op, final: null, key: valueKey(op.value), value: op.value ?? null, invokeAt: op.invokeAt, completeAt: op.completeAt });
    }
  }

  const finalReadChecked = (input.final?.length ?? 0) > 0;
  if (finalReadChecked) {
    const finalAt = lastTime + 1;
    const finalByUser = new Map(input.final!.map((f) => [f.userId, f]));
    for (const user of registers.values()) {
      // A user the final read did not find is a user whose row is gone.
      const final = finalByUser.get(user.userId) ?? { userId: user.userId, value: null, at: finalAt };
      const read: RegisterRead = { type: 'read', op: null, final, key: valueKey(final.value), value: final.value, invokeAt: finalAt, completeAt: finalAt };
      user.reads.push(read);
    }
  }

  const examples: AnomalyExample[] = [];
  const crossSession: AnomalyExample[] = [];
  const sessions = input.consistency === 'session';
  for (const user of registers.values()) {
    for (const finding of checkRegister(user, index)) {
      // In session mode an order finding may be only cross-session: judged again per session below. (The final
      // read too: the linearizable check may blame it for another session's late replica read.)
      if (sessions && finding.fromOrder) {
        if (!finding.read.final) crossSession.push(exampleOf(user.userId, finding));
      } else {
        examples.push(exampleOf(user.userId, finding));
      }
    }
    if (!sessions) continue;
    const readsBySession = new Map<number | null, RegisterRead[]>();
    for (const read of user.reads) {
      const process = read.op ? read.op.process : read.final ? null : undefined;
      if (process === undefined) continue;
      const list = readsBySession.get(process) ?? [];
      list.push(read);
      readsBySession.set(process, list);
    }
    for (const [process, reads] of readsBySession) {
      for (const finding of checkRegister({ ...user, reads }, index, { process })) {
        if (finding.fromOrder) examples.push(exampleOf(user.userId, finding));
      }
    }
  }
  if (sessions) {
    // A read flagged per session is an anomaly, not also information.
    const judged = new Set(examples.map((e) => e.ops[0]!.opId));
    for (let i = crossSession.length - 1; i >= 0; i--) if (judged.has(crossSession[i]!.ops[0]!.opId)) crossSession.splice(i, 1);
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
    if (list.length < EXAMPLES_PER_KIND) list.push(example);
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
    unattributedRows: unattributed,
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
