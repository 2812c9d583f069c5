// Writes made by hand in the sandbox: an attendee's curl to the balancer, or an UPDATE in the database. Nobody
// records them as they happen, so a read of their value would look like a value nobody wrote (garbage) to the
// checker. The sandbox watches every read as it completes (before the live checker can judge it): a value with a
// field of a shape the load never writes (loadValueShape, from the mapping) that is not the user's seeded value was written by
// someone else. It is recorded in the history as an external write (HistoryRecorder.recordInferredWrite: some time
// between the sandbox's start and that read), listed on the dashboard and in the terminal, and the anomalies found
// after it are shown next to it, as they are next to the controls' actions. What it teaches: a write by hand is a
// writer the rollout does not know about. An UPDATE of the old columns alone skips v2's dual-write, and the drift
// it leaves is what verify reports and verified reads fall back on.
import { loadValueShape } from '../proof/generator.ts';
import type { FieldShape } from '../proof/generator.ts';
import type { HistoryRecorder, Op, RecordValue } from '../proof/history.ts';

export const BY_HAND = 'by hand (curl or SQL)';

export interface ExternalWriteRecord {
  /** Seconds since the sandbox started (the charts' clock): when a read first returned the value. */
  at: number;
  /** On the history's clock. */
  atMs: number;
  /** The row's key. */
  key: string;
  value: RecordValue;
  /** The read that saw it, and the external write recorded for it (history.jsonl). */
  readId: number;
  writeId: number;
  title: string;
}

export class ExternalWrites {
  readonly seen: ExternalWriteRecord[] = [];
  private readonly seeded = new Map<string, RecordValue>();
  /** Values already recorded, per user: each is recorded once. */
  private readonly recorded = new Map<string, Set<string>>();

  /**
   * `shape`: the load's values, per field (loadValueShape); null when the mapping's sample gives none, and then
   * nothing is taken for a write by hand (`spotting` says so).
   */
  constructor(
    private readonly recorder: HistoryRecorder,
    private readonly secondsAt: (at: number) => number,
    private readonly onSeen: (record: ExternalWriteRecord) => void = () => {},
    private readonly shape: Record<string, FieldShape> | null = loadValueShape(),
  ) {}

  /** Whether writes by hand can be told from the load's (the mapping's sample carries the load's tag). */
  get spotting(): boolean {
    return this.shape !== null;
  }

  /** The users' values before the load (the seeded rows): not the load's shape, not by hand either. */
  seed(users: readonly { key: string; value: RecordValue }[]): void {
    for (const user of users) this.seeded.set(user.key, user.value);
  }

  /** For HistoryRecorder's onComplete: called as each operation completes. */
  observe(op: Op): void {
    if (op.f !== 'read' || op.outcome !== 'ok' || !op.value || op.key === null || op.completeAt === null || op.external) return;
    if (!this.byHand(op.key, op.value)) return;
    const valueKey = JSON.stringify(this.recorder.fields.map((field) => op.value![field] ?? null));
    let values = this.recorded.get(op.key);
    if (!values) this.recorded.set(op.key, (values = new Set()));
    if (values.has(valueKey)) return;
    values.add(valueKey);
    const write = this.recorder.recordInferredWrite({ key: op.key, value: op.value, external: BY_HAND, since: this.recorder.steps[0]?.at ?? 0, by: op.completeAt });
    const record: ExternalWriteRecord = {
      at: this.secondsAt(op.completeAt),
      atMs: op.completeAt,
      key: op.key,
      value: op.value,
      readId: op.id,
      writeId: write.id,
      title: `a write by hand on user ${op.key} (${Object.entries(op.value).map(([field, v]) => `${field} ${JSON.stringify(v)}`).join(', ')})`,
    };
    this.seen.push(record);
    this.onSeen(record);
  }

  /** Whether one of a value's fields came from neither the load nor the seed. */
  byHand(key: string, value: RecordValue): boolean {
    const shape = this.shape;
    if (!shape) return false;
    const seeded = this.seeded.get(key);
    return Object.entries(shape).some(([field, loadShape]) => !(loadShape.test(String(value[field])) || seeded?.[field] === value[field]));
  }
}

export function describeExternalWrite(record: ExternalWriteRecord): string {
  return `external write seen @${record.at}s: ${record.title}: not made by the sandbox's load; recorded in the history as external (write #${record.writeId}), so its reads are not anomalies`;
}
