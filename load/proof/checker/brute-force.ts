// The references the fast checker is held to (tests only), one user at a time. Exponential: keep histories small.
// Deliberately shares no code with the fast checker, so that a mistake in one is not repeated in the other.
//
// Linearizable: a Wing & Gong search over every order of one user's operations that respects real time, for a
// register that starts absent (or at the value before the load). Acknowledged writes and answered reads must be
// placed; a write of unknown outcome (info) may be placed at any point after its invocation or left out (it never
// completed, so it precedes nothing); a failed write is left out, except that a PUT answered 404 observed "no such
// user".
//
// Session guarantees (load/proof/checker/sessions.ts states the definition): every total order of the writes that took
// effect is tried, each write placed at the earliest point its interval and the order allow, and each session's
// reads and the final read are checked against it literally, one guarantee after another.
import { isReadKind } from '../history.ts';
import type { Op, RecordValue } from '../history.ts';

export interface BruteForceInput {
  /** The history's fields (every value is one string per field). */
  fields: readonly string[];
  /** One user's operations. */
  ops: Op[];
  /** The value before the load; null or omitted: the user did not exist. */
  initial?: RecordValue | null;
  /** The final read, after every operation ended; undefined: none taken, null: no such user. */
  final?: RecordValue | null;
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
/** A value's key: its fields, in the history's order. */
const keyer = (fields: readonly string[]) => (value: RecordValue | null | undefined) => (value ? fields.map((field) => String(value[field])).join('\u0000') : NOT_FOUND);

export function bruteForceLinearizable({ fields, ops, initial = null, final }: BruteForceInput): boolean {
  const keyOf = keyer(fields);
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

/** What the session reference finds: the reads no write explains, and the first guarantee no order can meet. */
export interface SessionReference {
  /** As unexplainedReads. */
  unexplained: number[];
  firstBroken: 'none' | 'readYourWrites' | 'monotonicReads' | 'finalRealTime' | 'finalSessions';
}

interface Placed {
  key: string;
  invokeAt: number;
  /** The latest point it can take effect at: its completion, and no later than any read that returned it. */
  deadline: number;
}

interface SessionRead {
  key: string;
  /** The session's acknowledged writes and explained reads invoked before it, by value. */
  ownWrites: string[];
  earlierReads: string[];
}

const MAX_WRITES = 7;

function* permutations<T>(items: T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield items;
    return;
  }
  for (let i = 0; i < items.length; i++) {
    for (const rest of permutations([...items.slice(0, i), ...items.slice(i + 1)])) yield [items[i]!, ...rest];
  }
}

const observedKeyOf = (keyOf: ReturnType<typeof keyer>) => (op: Op) => (op.f === 'read' ? keyOf(op.value) : NOT_FOUND);
const isObservation = (op: Op) => (op.f === 'read' && op.outcome === 'ok') || (op.f === 'write' && op.outcome === 'fail' && op.status === 404);

/**
 * The reads (op ids; 0 for the final read) whose value no write of the user produced before they completed: no
 * order can explain them, in any mode (the value before the load counts as a write).
 */
export function unexplainedReads({ fields, ops, initial = null, final }: BruteForceInput): number[] {
  const keyOf = keyer(fields);
  const observedKey = observedKeyOf(keyOf);
  const initialKey = keyOf(initial);
  const written = new Map<string, Op>();
  for (const op of ops) if (!isReadKind(op.f) && op.outcome !== 'fail' && op.value) written.set(keyOf(op.value), op);
  const explained = (key: string, completeAt: number) => key === initialKey || (written.has(key) && written.get(key)!.invokeAt <= completeAt);
  const unexplained = ops.filter((op) => isObservation(op) && !explained(observedKey(op), op.completeAt!)).map((op) => op.id);
  if (final !== undefined && !explained(keyOf(final), Infinity)) unexplained.push(0);
  return unexplained;
}

export function bruteForceSessions(input: BruteForceInput): SessionReference {
  const { fields, ops, initial = null, final } = input;
  const keyOf = keyer(fields);
  const observedKey = observedKeyOf(keyOf);
  const initialKey = keyOf(initial);
  const written = new Map<string, Op>();
  for (const op of ops) if (!isReadKind(op.f) && op.outcome !== 'fail' && op.value) written.set(keyOf(op.value), op);
  const unexplained = unexplainedReads(input);
  const finalKey = final === undefined ? undefined : keyOf(final);
  const reads = ops.filter((op) => isObservation(op) && !unexplained.includes(op.id));

  // The writes that took effect: acknowledged ones, and those of unknown outcome that something read.
  const readKeys = new Set(reads.map(observedKey));
  if (finalKey !== undefined && !unexplained.includes(0)) readKeys.add(finalKey);
  const placed: Placed[] = [];
  for (const [key, op] of written) {
    if (key === initialKey || (op.outcome !== 'ok' && !readKeys.has(key))) continue;
    let deadline = op.outcome === 'ok' ? op.completeAt! : Infinity;
    for (const read of reads) if (observedKey(read) === key) deadline = Math.min(deadline, read.completeAt!);
    placed.push({ key, invokeAt: op.invokeAt, deadline });
  }
  if (placed.length > MAX_WRITES) throw new Error(`brute force: ${placed.length} writes, at most ${MAX_WRITES}`);

  const sessionReads: SessionRead[] = [];
  const bySession = new Map<number, Op[]>();
  for (const op of ops) {
    if (op.external) continue;
    bySession.set(op.process, [...(bySession.get(op.process) ?? []), op]);
  }
  for (const sessionOps of bySession.values()) {
    sessionOps.sort((a, b) => a.invokeAt - b.invokeAt);
    sessionOps.forEach((op, i) => {
      if (!reads.includes(op)) return;
      const earlier = sessionOps.slice(0, i);
      sessionReads.push({
        key: observedKey(op),
        ownWrites: earlier.filter((w) => w.f !== 'read' && w.outcome === 'ok').map((w) => keyOf(w.value)),
        earlierReads: earlier.filter((r) => reads.includes(r)).map(observedKey),
      });
    });
  }

  type Check = 'readYourWrites' | 'monotonicReads' | 'final';
  const holds = (order: Placed[], checks: Check[]): boolean => {
    let point = -Infinity;
    for (const write of order) {
      point = Math.max(point, write.invokeAt);
      if (point > write.deadline) return false;
    }
    const position = new Map<string, number>([[initialKey, -1]]);
    order.forEach((write, i) => position.set(write.key, i));
    const notOlder = (earlier: string, later: string) => position.get(earlier)! <= position.get(later)!;
    for (const read of sessionReads) {
      if (checks.includes('readYourWrites') && !read.ownWrites.every((w) => notOlder(w, read.key))) return false;
      if (checks.includes('monotonicReads') && !read.earlierReads.every((r) => notOlder(r, read.key))) return false;
    }
    if (checks.includes('final') && finalKey !== undefined && !unexplained.includes(0)) return position.get(finalKey) === order.length - 1;
    return true;
  };
  const possible = (checks: Check[]) => {
    for (const order of permutations(placed)) if (holds(order, checks)) return true;
    return false;
  };
  const firstBroken: SessionReference['firstBroken'] = !possible(['readYourWrites'])
    ? 'readYourWrites'
    : !possible(['readYourWrites', 'monotonicReads'])
      ? 'monotonicReads'
      : !possible(['readYourWrites', 'monotonicReads', 'final'])
        ? possible(['final'])
          ? 'finalSessions'
          : 'finalRealTime'
        : 'none';
  return { unexplained, firstBroken };
}
