// The reference the fast checker is held to (tests only): a Wing & Gong search over every order of one user's
// operations that respects real time, for a register that starts absent (or at the value before the load).
// Acknowledged writes and answered reads must be placed; a write of unknown outcome (info) may be placed at any
// point after its invocation or left out (it never completed, so it precedes nothing); a failed write is left
// out, except that a PUT answered 404 observed "no such user". Exponential: keep histories small.
// Deliberately shares no code with the fast checker, so that a mistake in one is not repeated in the other.
import type { Op, UserValue } from '../history.ts';

export interface BruteForceInput {
  /** One user's operations. */
  ops: Op[];
  /** The value before the load; null or omitted: the user did not exist. */
  initial?: UserValue | null;
  /** The final read, after every operation ended; undefined: none taken, null: no such user. */
  final?: UserValue | null;
}

interface Event {
  reads: boolean;
  key: string;
  invokeAt: number;
  completeAt: number;
  required: boolean;
}

const MAX_EVENTS = 24;
const NOT_FOUND = '<no such user>';
const keyOf = (value: UserValue | null | undefined) => (value ? `${String(value.name)}\u0000${String(value.email)}` : NOT_FOUND);

export function bruteForceLinearizable({ ops, initial = null, final }: BruteForceInput): boolean {
  const events: Event[] = [];
  let lastTime = 0;
  for (const op of ops) {
    lastTime = Math.max(lastTime, op.invokeAt, op.completeAt ?? 0);
    if (op.f === 'read') {
      if (op.outcome === 'ok') events.push({ reads: true, key: keyOf(op.value), invokeAt: op.invokeAt, completeAt: op.completeAt!, required: true });
    } else if (op.outcome === 'ok') {
      events.push({ reads: false, key: keyOf(op.value), invokeAt: op.invokeAt, completeAt: op.completeAt!, required: true });
    } else if (op.outcome === 'info') {
      events.push({ reads: false, key: keyOf(op.value), invokeAt: op.invokeAt, completeAt: Infinity, required: false });
    } else if (op.f === 'write' && op.status === 404) {
      events.push({ reads: true, key: NOT_FOUND, invokeAt: op.invokeAt, completeAt: op.completeAt!, required: true });
    }
  }
  if (final !== undefined) events.push({ reads: true, key: keyOf(final), invokeAt: lastTime + 1, completeAt: lastTime + 1, required: true });
  if (events.length > MAX_EVENTS) throw new Error(`brute force: ${events.length} operations, at most ${MAX_EVENTS}`);

  let requiredMask = 0;
  events.forEach((event, i) => {
    if (event.required) requiredMask |= 1 << i;
  });
  const dead = new Set<string>();
  const search = (placed: number, value: string): boolean => {
    if ((placed & requiredMask) === requiredMask) return true;
    const state = `${placed}:${value}`;
    if (dead.has(state)) return false;
    for (let i = 0; i < events.length; i++) {
      if (placed & (1 << i)) continue;
      const event = events[i]!;
      // It can go next only if no unplaced required operation completed before it was invoked.
      const blocked = events.some((other, j) => j !== i && other.required && !(placed & (1 << j)) && other.completeAt < event.invokeAt);
      if (blocked) continue;
      if (event.reads && event.key !== value) continue;
      if (search(placed | (1 << i), event.reads ? value : event.key)) return true;
    }
    dead.add(state);
    return false;
  };
  return search(0, keyOf(initial));
}
