// Hand-written histories for the checker tests: one line per operation, times in ms on the history's clock.
import type { Op, Outcome, RecordValue } from '../../load/proof/history.ts';

/** The fields of these histories (the users mapping's old columns); test/load/checker-fields.test.ts uses others. */
export const FIELDS: readonly string[] = ['name', 'email'];

export const value = (tag: string): RecordValue => ({ name: tag, email: `${tag}@example.test` });

/** A row's key as these histories name it: a string (a UUID), or for short a number (1 is the key "1"). */
export type Key = string | number;

const keyOf = (key: Key | null): string | null => (key === null ? null : String(key));

export class HistoryBuilder {
  readonly ops: Op[] = [];
  private nextId = 1;

  private add(op: Omit<Op, 'id' | 'process' | 'step'> & Partial<Pick<Op, 'process' | 'step'>>): Op {
    const full: Op = { id: this.nextId++, process: 0, step: 'load', ...op };
    this.ops.push(full);
    return full;
  }

  /** A create of the row `key` writing `tag`; completeAt null (with outcome info) for an unanswered one. */
  create(key: Key | null, tag: string, invokeAt: number, completeAt: number | null, outcome: Outcome = 'ok', extra: Partial<Op> = {}): Op {
    return this.add({ f: 'create', key: keyOf(key), value: value(tag), invokeAt, completeAt: outcome === 'info' ? null : completeAt, outcome, ...(outcome === 'ok' ? { status: 201 } : {}), ...extra });
  }

  write(key: Key, tag: string, invokeAt: number, completeAt: number | null, outcome: Outcome = 'ok', extra: Partial<Op> = {}): Op {
    return this.add({ f: 'write', key: keyOf(key), value: value(tag), invokeAt, completeAt: outcome === 'info' ? null : completeAt, outcome, ...(outcome === 'ok' ? { status: 200 } : {}), ...extra });
  }

  /** A PATCH of the fields given (only those), e.g. `{ email: 'p1@example.test' }`. 404: it found no row (outcome fail). */
  patch(key: Key, fields: RecordValue, invokeAt: number, completeAt: number | null, outcome: Outcome = 'ok', extra: Partial<Op> = {}): Op {
    return this.add({ f: 'patch', key: keyOf(key), value: fields, invokeAt, completeAt: outcome === 'info' ? null : completeAt, outcome, ...(outcome === 'ok' ? { status: 200 } : {}), ...extra });
  }

  /** A DELETE of the row (204, or a 404 when it was already gone: both ok, see outcomeOfStatus). */
  delete(key: Key, invokeAt: number, completeAt: number | null, outcome: Outcome = 'ok', extra: Partial<Op> = {}): Op {
    return this.add({ f: 'delete', key: keyOf(key), invokeAt, completeAt: outcome === 'info' ? null : completeAt, outcome, ...(outcome === 'ok' ? { status: 204 } : {}), ...extra });
  }

  /**
   * A lookup (GET /users?email=) for the email `asked`, made to find row `key`, that returned `found` (each row's key
   * and value; a tag string stands for value(tag)); outcome fail: no answer, nothing found.
   */
  lookup(key: Key, asked: string, found: Array<[Key, string | RecordValue]>, invokeAt: number, completeAt: number, outcome: Outcome = 'ok', extra: Partial<Op> = {}): Op {
    const rows = found.map(([k, v]) => ({ key: String(k), value: typeof v === 'string' ? value(v) : v }));
    return this.add({ f: 'lookup', key: keyOf(key), value: { email: asked }, invokeAt, completeAt, outcome, ...(outcome === 'ok' ? { status: 200, found: rows } : {}), ...extra });
  }

  /** A read returning `tag` (a string), an exact value, or null for a 404. */
  read(key: Key, returned: string | RecordValue | null, invokeAt: number, completeAt: number, extra: Partial<Op> = {}): Op {
    const shown = typeof returned === 'string' ? value(returned) : returned;
    return this.add({ f: 'read', key: keyOf(key), ...(shown ? { value: shown } : {}), invokeAt, completeAt, outcome: 'ok', status: shown ? 200 : 404, ...extra });
  }
}

/** How a generated read departs from a legal value: another write's value, none, mixed fields, an empty field, the initial value. */
export type ValueCorruption = { type: 'other' | 'absent' | 'mixed' | 'empty' | 'seed'; pick: number; pick2: number };

/** The value a corrupted read returns instead of `legal` (picked among `written`, or `seed`). */
export function corruptedValue(legal: RecordValue | null, c: ValueCorruption | null, written: RecordValue[], seed: RecordValue): RecordValue | null {
  if (!c) return legal;
  if (c.type === 'absent') return null;
  if (c.type === 'seed') return seed;
  // The others are made of written values: with none written, the read stays legal.
  if (written.length === 0) return legal;
  const a = written[c.pick % written.length]!;
  const b = written[c.pick2 % written.length]!;
  if (c.type === 'other') return a;
  if (c.type === 'mixed') return { name: a.name!, email: b.email! };
  return { name: '', email: a.email! };
}
