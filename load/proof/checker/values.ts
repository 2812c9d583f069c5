// Values as the checker compares them: a (name, email) pair, compared exactly (the generator writes ASCII, so
// any difference is a real one), with profile_data normalized in one place (a string on MariaDB, an object on
// MySQL 8). Also explains a value that no effective write of the user produced: that is a garbage read.
import type { Op } from '../history.ts';
import type { ShownValue } from './types.ts';

/** The key of "no such user" (a 404, a missing row). */
export const ABSENT = 'absent';

/** What was observed: a value whose fields may be missing or of the wrong type when something is broken. */
export type Observed = { name: unknown; email: unknown } | null | undefined;

export function valueKey(value: Observed): string {
  if (!value) return ABSENT;
  return JSON.stringify([value.name ?? null, value.email ?? null]);
}

export function hasEmptyField(value: NonNullable<Observed>): boolean {
  return typeof value.name !== 'string' || value.name === '' || typeof value.email !== 'string' || value.email === '';
}

/** For examples: the value as it was seen (fields that are not strings show as null). */
export function shownValue(value: Observed): ShownValue {
  if (!value) return null;
  return { name: typeof value.name === 'string' ? value.name : null, email: typeof value.email === 'string' ? value.email : null };
}

export function describeValue(value: Observed): string {
  if (!value) return 'not found';
  return `${JSON.stringify(value.name ?? null)} <${typeof value.email === 'string' ? value.email : JSON.stringify(value.email ?? null)}>`;
}

export type NormalizedProfile = { value: Observed } | { invalid: string };

/** profile_data as the driver returns it: null, a JSON string (MariaDB) or an object (MySQL 8). */
export function normalizeProfileData(raw: unknown): NormalizedProfile {
  if (raw === null || raw === undefined) return { value: null };
  let parsed: unknown = raw;
  if (typeof raw === 'string' || Buffer.isBuffer(raw)) {
    try {
      parsed = JSON.parse(raw.toString());
    } catch {
      return { invalid: 'profile_data is not valid JSON' };
    }
  }
  if (parsed === null) return { value: null };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) return { invalid: 'profile_data is not a JSON object' };
  const object = parsed as Record<string, unknown>;
  return { value: { name: object.name, email: object.email } };
}

/** The old columns as a value: null when both are empty (no old columns, or not written), else what they hold. */
export function oldColumnsValue(row: { name: string | null; email: string | null }): Observed {
  if (row.name === null && row.email === null) return null;
  return { name: row.name, email: row.email };
}

/** Every value the history wrote (any outcome, any user), to explain a value that the user's effective writes did not produce. */
export class WriteIndex {
  private readonly byKey = new Map<string, Op[]>();
  private readonly byName = new Map<string, Op>();
  private readonly byEmail = new Map<string, Op>();

  constructor(ops: Op[]) {
    for (const op of ops) {
      if (op.f === 'read' || !op.value) continue;
      const key = valueKey(op.value);
      const list = this.byKey.get(key);
      if (list) list.push(op);
      else this.byKey.set(key, [op]);
      this.byName.set(op.value.name, op);
      this.byEmail.set(op.value.email, op);
    }
  }

  /** Unanswered creates (no id known) that wrote this value. */
  unansweredCreates(value: Observed): Op[] {
    return (this.byKey.get(valueKey(value)) ?? []).filter((op) => op.f === 'create' && op.userId === null && op.outcome === 'info');
  }

  /** Why a value that no effective write of this user produced was seen, and the writes that show it. */
  explain(value: Observed, userId: number): { reason: string; witnesses: Op[] } {
    if (!value) return { reason: 'absent', witnesses: [] };
    if (hasEmptyField(value)) return { reason: 'empty or absent field', witnesses: [] };
    const sameValue = this.byKey.get(valueKey(value)) ?? [];
    const failed = sameValue.find((op) => op.userId === userId && op.outcome === 'fail');
    if (failed) return { reason: 'value of a failed write (it must have had no effect)', witnesses: [failed] };
    const foreign = sameValue.find((op) => op.userId !== userId);
    if (foreign) return { reason: foreign.userId === null ? "value of an unanswered create of another row" : "another user's value", witnesses: [foreign] };
    const byName = this.byName.get(value.name as string);
    const byEmail = this.byEmail.get(value.email as string);
    if (byName && byEmail && byName !== byEmail) return { reason: 'mixed fields of two writes', witnesses: [byName, byEmail] };
    return { reason: 'a value no write produced', witnesses: [byName ?? byEmail].filter((op): op is Op => op !== undefined) };
  }
}
