// What the instances said was wrong: their warnings and errors (pino level >= 40) from the logs a run keeps, so a
// run that fails on a failed request shows beside it what the instance saw (a lease lost, a heartbeat that timed
// out, a database error) instead of sending the reader through four log files.
import fs from 'node:fs';
import path from 'node:path';

const WARN = 40;

/** Up to `limit` warning or error lines over every `*.log` in `dir`, oldest first: `v1-a 12:01:02.345 WARN lease lost: …`. */
export function instanceWarnings(dir: string, limit = 10): string[] {
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((name) => name.endsWith('.log'));
  } catch {
    return [];
  }
  const found: { time: number; line: string }[] = [];
  for (const file of files) {
    for (const raw of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (!raw.startsWith('{')) continue;
      let entry: { level?: unknown; time?: unknown; msg?: unknown; err?: { message?: unknown } };
      try {
        entry = JSON.parse(raw);
      } catch {
        continue;
      }
      if (typeof entry.level !== 'number' || entry.level < WARN || typeof entry.time !== 'number') continue;
      const error = typeof entry.err?.message === 'string' ? `: ${entry.err.message}` : '';
      const clock = new Date(entry.time).toISOString().slice(11, 23);
      found.push({ time: entry.time, line: `${path.basename(file, '.log')} ${clock} ${entry.level >= 50 ? 'ERROR' : 'WARN'} ${String(entry.msg ?? '')}${error}` });
    }
  }
  return found
    .sort((a, b) => a.time - b.time)
    .slice(0, limit)
    .map((f) => f.line);
}
