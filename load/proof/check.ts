// tsx load/proof/check.ts --history FILE [--snapshots FILE] [--out FILE] [--consistency linearizable|session]
// (session: a history recorded with reads from a replica, judged per load connection: docs/read-replicas.md)
// Judges a recorded history (and database snapshots) after the fact: prints the verdict on one screen, writes it
// as JSON (default: verdict.json next to the history), exits 0 only when there are 0 anomalies, 1 when there are
// some, 2 on a bad option or an unreadable input (one line naming the option).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { check } from './checker/index.ts';
import type { Snapshot, SnapshotRow } from './checker/index.ts';
import { formatVerdict } from './checker/format.ts';
import { readHistory } from './history.ts';
import type { RecordedHistory } from './history.ts';

const USAGE = 'usage: tsx load/proof/check.ts --history FILE [--snapshots FILE] [--out FILE] [--consistency linearizable|session]';

class OptionError extends Error {}

/** A JSON array of snapshots, or one snapshot per line. */
function readSnapshots(file: string): Snapshot[] {
  const text = fs.readFileSync(file, 'utf8').trim();
  const snapshots: unknown = text.startsWith('[')
    ? JSON.parse(text)
    : text
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line));
  if (!Array.isArray(snapshots) || snapshots.some((s) => typeof s?.step !== 'string' || typeof s?.takenAt !== 'number' || !Array.isArray(s?.rows))) {
    throw new Error('expected snapshots {step, takenAt, v1MayBeAlive, rows}');
  }
  return (snapshots as Array<Snapshot & { rows: unknown[] }>).map((snapshot) => ({ ...snapshot, rows: snapshot.rows.map(snapshotRow) }));
}

/** A row's key is a string (`key`); a file written before keys were strings has a numeric `id` instead. */
function snapshotRow(row: unknown): SnapshotRow {
  const { id, key, ...rest } = row as SnapshotRow & { id?: unknown };
  if (typeof key === 'string') return { key, ...rest };
  if (typeof id === 'number') return { key: String(id), ...rest };
  throw new Error(`expected a snapshot row with a key, got ${JSON.stringify(row)}`);
}

function main(): number {
  let values: { history?: string; snapshots?: string; out?: string; consistency?: string };
  try {
    ({ values } = parseArgs({ options: { history: { type: 'string' }, snapshots: { type: 'string' }, out: { type: 'string' }, consistency: { type: 'string' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new OptionError(`${(err as Error).message.split('\n')[0]} (${USAGE})`);
  }
  if (!values.history) throw new OptionError(`--history: required (${USAGE})`);
  const consistency = values.consistency ?? 'linearizable';
  if (consistency !== 'linearizable' && consistency !== 'session') throw new OptionError(`--consistency: must be linearizable or session (got ${JSON.stringify(consistency)})`);
  let history: RecordedHistory;
  try {
    history = readHistory(values.history);
  } catch (err) {
    throw new OptionError(`--history: cannot read ${values.history}: ${(err as Error).message}`);
  }
  let snapshots: Snapshot[] = [];
  if (values.snapshots) {
    try {
      snapshots = readSnapshots(values.snapshots);
    } catch (err) {
      throw new OptionError(`--snapshots: cannot read ${values.snapshots}: ${(err as Error).message}`);
    }
  }
  const out = values.out ?? path.join(path.dirname(values.history), 'verdict.json');
  let verdict;
  try {
    verdict = check({ fields: history.fields, ops: history.ops, initial: history.initial, final: history.final, snapshots, consistency });
  } catch (err) {
    throw new OptionError(`--history: cannot be judged: ${(err as Error).message}`);
  }
  try {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(verdict, null, 2)}\n`);
  } catch (err) {
    throw new OptionError(`--out: cannot write ${out}: ${(err as Error).message}`);
  }
  console.log(formatVerdict(verdict));
  console.log(`verdict: ${out}`);
  return verdict.anomalies === 0 ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (err) {
  if (!(err instanceof OptionError)) throw err;
  console.error(err.message);
  process.exitCode = 2;
}
