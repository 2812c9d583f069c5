// The verdict on one screen: totals, anomalies by kind with their first examples, and a line per rollout step.
import { ANOMALY_KINDS } from './types.ts';
import type { AnomalyKind, Verdict } from './types.ts';

/** Each anomaly kind as the summary, the report and the dashboard name it. */
export const KIND_LABELS: Record<AnomalyKind, string> = {
  stale: 'stale reads',
  nonMonotonic: 'non-monotonic reads',
  garbage: 'garbage reads',
  lost: 'lost writes',
  newAheadOfOld: 'new ahead of old',
  phantom: 'phantom rows (nobody wrote them)',
};

const pad = (text: string | number, width: number) => String(text).padStart(width);
const EXAMPLE_WIDTH = 200;
const clip = (line: string) => (line.length > EXAMPLE_WIDTH ? `${line.slice(0, EXAMPLE_WIDTH - 1)}…` : line);

/** Why drift is not an anomaly, for the verdict, the demo's summary and report.html (docs/workshop/reading-a-report.md). */
export const DRIFT_MEANING = [
  'drift: rows whose two copies differed in the snapshot at the end of a step. Expected while a v1 writes the old',
  'columns alone (steps 2-5) and once v2 writes only the new column (step 10); harmless while nothing reads the copy',
  'that lags. A read of the lagging copy would be a stale read, counted above: the gates keep it from happening.',
];

export function formatVerdict(verdict: Verdict, { examplesPerKind = 2 } = {}): string {
  const lines: string[] = [];
  lines.push(
    `${verdict.operations} operations on ${verdict.users} users: ${verdict.acknowledgedWrites} acknowledged writes, ${verdict.reads} reads${verdict.lookups > 0 ? ` (${verdict.lookups} of them lookups)` : ''}, ` +
      `${verdict.unknownOutcomes} unknown outcomes, ${verdict.failedRequests} failed requests, ${verdict.retries} retries`,
  );
  lines.push(
    `versions seen: ${verdict.versionsSeen.join(', ') || 'none'} (${verdict.instancesSeen.length} instances); ` +
      `final read: ${verdict.finalReadChecked ? 'checked' : 'not taken (lost writes not judged)'}; snapshots: ${verdict.snapshotsChecked}` +
      (verdict.consistency === 'session' ? '; consistency: session guarantees per load connection' : ''),
  );
  const statuses = Object.entries(verdict.statusCounts)
    .sort(([, a], [, b]) => b - a)
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
  lines.push(`answers: ${statuses || 'none'}`);
  for (const failed of verdict.failedExamples.slice(0, examplesPerKind + 1)) lines.push(clip(`  failed: ${failed}`));
  lines.push('');
  for (const kind of ANOMALY_KINDS) {
    lines.push(`${pad(verdict.byKind[kind], 7)}  ${KIND_LABELS[kind]}`);
    for (const example of verdict.examples[kind].slice(0, examplesPerKind)) lines.push(clip(`           e.g. ${example.message}`));
  }
  lines.push(`${pad(verdict.drift, 7)}  drift (old columns differ from the new column; not an anomaly)`);
  // A large number beside PASSED looks alarming: say why it is not, where it is printed.
  if (verdict.drift > 0) lines.push(DRIFT_MEANING.map((line) => `           ${line}`).join('\n'));
  if (verdict.crossSession) {
    // Session mode: what a lagging replica shows a client that does not carry the writer's token.
    lines.push(`${pad(verdict.crossSession.reads, 7)}  cross-session reads (stale in real time only, within the session guarantees; information, not an anomaly)`);
    for (const example of verdict.crossSession.examples.slice(0, examplesPerKind)) lines.push(clip(`           e.g. ${example.message}`));
  }
  const steps = Object.entries(verdict.perStep);
  if (steps.length > 0) {
    lines.push('');
    lines.push(`${'step'.padEnd(24)} ${pad('ops', 8)} ${pad('writes', 8)} ${pad('reads', 8)} ${pad('failed', 7)} ${pad('unknown', 8)} ${pad('anomalies', 10)} ${pad('drift', 6)}`);
    for (const [step, s] of steps) {
      lines.push(
        `${step.slice(0, 24).padEnd(24)} ${pad(s.ops, 8)} ${pad(s.acknowledgedWrites, 8)} ${pad(s.reads, 8)} ${pad(s.failedRequests, 7)} ${pad(s.unknownOutcomes, 8)} ${pad(s.anomalies, 10)} ${pad(s.drift, 6)}`,
      );
    }
  }
  lines.push('');
  lines.push(verdict.anomalies === 0 ? 'PASS: 0 anomalies' : `FAIL: ${verdict.anomalies} anomalies`);
  return lines.join('\n');
}
