// The sandbox has no PASSED/FAILED: each anomaly the live checker finds is shown next to the attendee action
// nearest before the moment it was found (the likely cause, to discuss), or "before any action" (the fleet as it
// started). Found, not the time the checker's example names: a non-monotonic example names the two reads that
// disagree, which may both be older than the read that revealed the disagreement (and than the action that
// caused it, say a v2 with an anti-pattern that reads profile_data). The live checker looks once a second, so an
// action taken within that second before the finding may be named instead: the times shown let you tell.
import type { TimedAnomaly } from '../observe/report/report.ts';

/** What an anomaly can be shown next to: a control's action (its id), or a write by hand (id null, external-writes.ts). */
export interface AttendeeEvent {
  id: number | null;
  atMs: number;
  title: string;
}

export interface AttributedAnomaly {
  kind: string;
  /** The row's key. */
  key: string;
  /** Seconds since the sandbox started: the time of the checker's example (its first operation). */
  at: number;
  /** Seconds since the sandbox started: when the live checker found it. */
  foundAt: number;
  message: string;
  /** The last action (or write by hand: id null) at or before the finding; null: before any. */
  after: { id: number | null; title: string; secondsBefore: number } | null;
}

export function nearestActionBefore<T extends AttendeeEvent>(actions: readonly T[], atMs: number): T | null {
  let nearest: T | null = null;
  for (const action of actions) if (action.atMs <= atMs && (!nearest || action.atMs >= nearest.atMs)) nearest = action;
  return nearest;
}

/** `foundAtMs`: when the live checker reported it, on the history's clock. */
export function attribute(anomaly: TimedAnomaly, actions: readonly AttendeeEvent[], secondsAt: (at: number) => number, foundAtMs: number): AttributedAnomaly {
  const action = nearestActionBefore(actions, foundAtMs);
  return {
    kind: anomaly.kind,
    key: anomaly.key,
    at: secondsAt(anomaly.at),
    foundAt: secondsAt(foundAtMs),
    message: anomaly.message,
    after: action ? { id: action.id, title: action.title, secondsBefore: Math.round((foundAtMs - action.atMs) / 100) / 10 } : null,
  };
}

export function describeAttributed(a: AttributedAnomaly): string {
  const when = !a.after
    ? 'found before any action'
    : a.after.id === null
      ? `found ${a.after.secondsBefore} s after ${a.after.title}`
      : `found ${a.after.secondsBefore} s after action #${a.after.id} (${a.after.title})`;
  return `anomaly found @${a.foundAt}s ${a.kind} user ${a.key}, ${when}: ${a.message}`;
}
