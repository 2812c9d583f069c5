// What the checker reads and what it answers. It judges a recorded history and database snapshots only (no app
// code), so it can judge any implementation of the same HTTP contract. The verdict is data: the exit code of
// `npm run check` and the JSON summary are both derived from it.
import type { FinalRead, InitialValue, Op } from '../history.ts';

/**
 * One row of the table as the database holds it at a step boundary, in the history's shape: the runner reads it
 * through the mapping, so the checker knows no column. A column that does not exist yet (or any more) is null.
 */
export interface SnapshotRow {
  /** The row's key, as the route names it (an opaque string: the runner converts the column's value with String). */
  key: string;
  /** The old columns, one entry per field of the history (null: the column is NULL); null when there are none. */
  old: Readonly<Record<string, string | null>> | null;
  /**
   * The new column read back through the mapping (new -> old) as a value of the history's fields; a string says
   * why the mapping could not read it back (malformed, wrong shape); null when NULL or when there is none.
   */
  new: Readonly<Record<string, string>> | string | null;
}

export interface Snapshot {
  step: string;
  /** On the history's clock, after the snapshot query returned: no row can hold a write invoked later. */
  takenAt: number;
  /** While v1 may still serve, every write must reach the old columns no later than the new column. */
  v1MayBeAlive: boolean;
  rows: SnapshotRow[];
}

export interface CheckInput {
  /** The fields of every value, as the history names them (RecordedHistory.fields). */
  fields: readonly string[];
  ops: Op[];
  initial?: InitialValue[];
  /** Omit (or leave empty) when no final read was taken: lost writes are then not judged. */
  final?: FinalRead[];
  snapshots?: Snapshot[];
  /**
   * What a read promises. linearizable (the default): every read sees every write that completed before it
   * began. session (reads from a replica with consistency tokens): one order of each user's writes, in which each
   * load connection reads its own writes and never goes back, and the final read is the last write
   * (load/proof/checker/sessions.ts has the exact definition); a read older than another session's completed write is
   * reported in crossSession, as information, not as an anomaly.
   */
  consistency?: 'linearizable' | 'session';
}

/** phantom: a final or snapshot row that no operation names and no unanswered create explains (a write nobody made). */
export const ANOMALY_KINDS = ['stale', 'nonMonotonic', 'garbage', 'lost', 'newAheadOfOld', 'phantom'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/**
 * A value as an example shows it: every field of the history, in its order; a field that was missing or not a
 * string is null. null alone is "not found".
 */
export type ShownValue = Record<string, string | null> | null;

/** An operation named in an example, with what served it. */
export interface OpRef {
  role: string;
  opId: number | null;
  f: string;
  value: ShownValue;
  invokeAt: number | null;
  completeAt: number | null;
  outcome?: string;
  step?: string;
  version?: string;
  instance?: string;
  readSource?: string;
}

export interface AnomalyExample {
  kind: AnomalyKind;
  /** The finer reason, e.g. "mixed fields", "missing data", "value of a write invoked after the read completed". */
  reason: string;
  message: string;
  /** The row's key (Op.key). */
  key: string;
  /** Set when the row was judged one field at a time (it was patched): the field whose order is broken. */
  field?: string;
  step: string;
  /** The operation judged anomalous (a read, a final read, or a snapshot row), then the operations that prove it. */
  ops: OpRef[];
}

export interface DriftExample {
  key: string;
  step: string;
  takenAt: number;
  old: ShownValue;
  /** The new column, read back as the old columns' values. */
  new: ShownValue;
  message: string;
}

export interface StepSummary {
  ops: number;
  acknowledgedWrites: number;
  reads: number;
  failedRequests: number;
  unknownOutcomes: number;
  anomalies: number;
  byKind: Record<AnomalyKind, number>;
  drift: number;
}

export interface Verdict {
  /**
   * Safety violations only: the sum of byKind. 0 means: per user, the history is linearizable (or, in session
   * mode, meets the session guarantees); no snapshot put new ahead of old or held garbage; no row is a phantom.
   */
  anomalies: number;
  byKind: Record<AnomalyKind, number>;
  /** Up to EXAMPLES_PER_KIND per kind. */
  examples: Record<AnomalyKind, AnomalyExample[]>;
  /** Snapshot rows whose old columns and new column differ without putting new ahead of old while v1 may serve. */
  drift: number;
  driftExamples: DriftExample[];
  users: number;
  operations: number;
  acknowledgedWrites: number;
  /** Reads answered (200 or 404), and PUTs or PATCHes answered 404 (they observed the row gone); final reads excluded. */
  reads: number;
  /** Of those reads, the lookups answered (GET <route>?<param>=: each a read of a set, docs/consistency-checker.md#lookups). */
  lookups: number;
  /** Writes with no answer or a 5xx: they may or may not have taken effect. */
  unknownOutcomes: number;
  /** Requests that did not succeed in the end (an error answer, or none), unless their retry succeeded. */
  failedRequests: number;
  /**
   * The first EXAMPLES_PER_KIND of them, each in one line: what, in which step, served by whom, the answer (or
   * the error when none came) and how long it took. A run that fails on its failed-request budget says why.
   */
  failedExamples: string[];
  /** Client retries of a GET or PUT whose connection was reset or closed before any answer. */
  retries: number;
  versionsSeen: string[];
  instancesSeen: string[];
  /** HTTP status (or error code when no answer came) -> count. */
  statusCounts: Record<string, number>;
  finalReadChecked: boolean;
  snapshotsChecked: number;
  /** In the order the steps began; a snapshot's anomalies count in its step, the final read's in "final". */
  perStep: Record<string, StepSummary>;
  /** Present with consistency session only. */
  consistency?: 'session';
  /**
   * With consistency session: reads the linearizable check flags but that meet the session guarantees (e.g. older
   * than another connection's completed write, or read). Expected from a lagging replica; not anomalies.
   */
  crossSession?: { reads: number; byKind: Record<AnomalyKind, number>; examples: AnomalyExample[] };
}

export const EXAMPLES_PER_KIND = 10;

/** The step name of the final read (after the load stopped). */
export const FINAL_STEP = 'final';
