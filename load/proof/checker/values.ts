// Values as the checker compares them: one string per field of the history, in the history's order (the history
// names its fields: the checker knows no column), compared exactly (the generator writes ASCII, so any difference
// is a real one). Also explains a value that no effective write of the user produced: that is a garbage read.
import { isReadKind } from '../history.ts';
import type { Op } from '../history.ts';
import type { ShownValue } from './types.ts';

/** The key of "no such user" (a 404, a missing row) before the row was created. */
export const ABSENT = 'absent';
/**
 * The key of "no such user" once its DELETE may have taken effect: the delete's own value, distinct from the
 * absence before the row was created, so that the register still has one write per value (a row is deleted at
 * most once). A read of "absent" counts as a read of it when it completed after the delete was invoked.
 */
export const DELETED = 'deleted';

/** What was observed: a value whose fields may be missing or of the wrong type when something is broken. */
export type Observed = Readonly<Record<string, unknown>> | null | undefined;

/** The history's fields, and what the checker does with a value of them: key it, check it, show it. */
export class Values {
  constructor(readonly fields: readonly string[]) {
    if (fields.length === 0) throw new Error('the history names no fields: its values cannot be compared');
  }

  /** Equal for equal values: the fields in the history's order (a field missing and a null one are alike: both garbage). */
  key(value: Observed): string {
    if (!value) return ABSENT;
    return JSON.stringify(this.fields.map((field) => value[field] ?? null));
  }

  hasEmptyField(value: NonNullable<Observed>): boolean {
    return this.fields.some((field) => typeof value[field] !== 'string' || value[field] === '');
  }

  /** For examples: the value as it was seen (fields that are not strings show as null). */
  shown(value: Observed): ShownValue {
    if (!value) return null;
    return Object.fromEntries(this.fields.map((field) => [field, typeof value[field] === 'string' ? value[field] : null]));
  }

  /** In a message: the fields' values in the history's order, `("Ada", "ada@example.test")`. */
  describe(value: Observed): string {
    if (!value) return 'not found';
    return `(${this.fields.map((field) => JSON.stringify(value[field] ?? null)).join(', ')})`;
  }

  /** A snapshot's old columns as a value: null when there are none, or every field is empty (not written). */
  oldColumns(old: Readonly<Record<string, string | null>> | null): Observed {
    if (!old || this.fields.every((field) => old[field] === null || old[field] === undefined)) return null;
    return old;
  }
}

/** Every value the history wrote (any outcome, any user), to explain a value that the user's effective writes did not produce. */
export class WriteIndex {
  private readonly byKey = new Map<string, Op[]>();
  /** Per field, per value of it: the last write that wrote it (which write a torn value took each field from). */
  private readonly byField: Map<string, Map<string, Op>>;

  constructor(
    readonly values: Values,
    ops: Op[],
  ) {
    this.byField = new Map(values.fields.map((field) => [field, new Map<string, Op>()]));
    for (const op of ops) {
      // A lookup's value is what it asked for, not a write.
      if (isReadKind(op.f) || !op.value) continue;
      const key = values.key(op.value);
      const list = this.byKey.get(key);
      if (list) list.push(op);
      else this.byKey.set(key, [op]);
      for (const [field, writers] of this.byField) writers.set(op.value[field]!, op);
    }
  }

  /** Unanswered creates (no id known) that wrote this value. */
  unansweredCreates(value: Observed): Op[] {
    return (this.byKey.get(this.values.key(value)) ?? []).filter((op) => op.f === 'create' && op.key === null && op.outcome === 'info');
  }

  /** Why a value that no effective write of this user produced was seen, and the writes that show it. */
  explain(value: Observed, key: string): { reason: string; witnesses: Op[] } {
    if (!value) return { reason: 'absent', witnesses: [] };
    if (this.values.hasEmptyField(value)) return { reason: 'empty or absent field', witnesses: [] };
    const sameValue = this.byKey.get(this.values.key(value)) ?? [];
    const failed = sameValue.find((op) => op.key === key && op.outcome === 'fail');
    if (failed) return { reason: 'value of a failed write (it must have had no effect)', witnesses: [failed] };
    const foreign = sameValue.find((op) => op.key !== key);
    if (foreign) return { reason: foreign.key === null ? "value of an unanswered create of another row" : "another user's value", witnesses: [foreign] };
    // Each field's write, in field order, each write named once: two or more of them is a value torn between writes.
    const writers = [...new Set(this.values.fields.map((field) => this.byField.get(field)!.get(value[field] as string)))];
    const found = writers.filter((op): op is Op => op !== undefined);
    if (found.length > 1 && !writers.includes(undefined)) return { reason: 'mixed fields of two writes', witnesses: found };
    return { reason: 'a value no write produced', witnesses: found.slice(0, 1) };
  }
}
