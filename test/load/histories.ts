// Hand-written histories for the checker tests: one line per operation, times in ms on the history's clock.
import type { Op, Outcome, UserValue } from '../../load/history.ts';

export const value = (tag: string): UserValue => ({ name: tag, email: `${tag}@example.test` });

export class HistoryBuilder {
  readonly ops: Op[] = [];
  private nextId = 1;

  private add(op: Omit<Op, 'id' | 'process' | 'step'> & Partial<Pick<Op, 'process' | 'step'>>): Op {
    const full: Op = { id: this.nextId++, process: 0, step: 'load', ...op };
    this.ops.push(full);
    return full;
  }

  /** A create of user `userId` writing `tag`; completeAt null (with outcome info) for an unanswered one. */
  create(userId: number | null, tag: string, invokeAt: number, completeAt: number | null, outcome: Outcome = 'ok', extra: Partial<Op> = {}): Op {
    return this.add({ f: 'create', userId, value: value(tag), invokeAt, completeAt: outcome === 'info' ? null : completeAt, outcome, ...(outcome === 'ok' ? { status: 201 } : {}), ...extra });
  }

  write(userId: number, tag: string, invokeAt: number, completeAt: number | null, outcome: Outcome = 'ok', extra: Partial<Op> = {}): Op {
    return this.add({ f: 'write', userId, value: value(tag), invokeAt, completeAt: outcome === 'info' ? null : completeAt, outcome, ...(outcome === 'ok' ? { status: 200 } : {}), ...extra });
  }

  /** A read returning `tag` (a string), an exact value, or null for a 404. */
  read(userId: number, returned: string | UserValue | null, invokeAt: number, completeAt: number, extra: Partial<Op> = {}): Op {
    const shown = typeof returned === 'string' ? value(returned) : returned;
    return this.add({ f: 'read', userId, ...(shown ? { value: shown } : {}), invokeAt, completeAt, outcome: 'ok', status: shown ? 200 : 404, ...extra });
  }
}
