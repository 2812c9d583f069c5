// The load scenario on its own, against a balancer that is already running (docker-compose.yml's `load`
// service, or your own): autocannon creates, updates and reads for --seconds, every request recorded in the
// history, then a final read of every user and the checker's verdict. The exit code is the verdict: 0 only
// with 0 anomalies, failed requests within --max-failed and a final read that ran (it has no database access,
// so no snapshots: load/run/judgment.ts); 1 otherwise; 2 on a bad option.
// While it runs, walk the rollout steps in another terminal: the verdict covers whatever happened meanwhile.
//   node dist/load/run/run-load.js [--url http://127.0.0.1:8080] [--seconds 30] [--connections 8] [--max-failed 0]
// Writes RESULTS_DIR (default results/): history.jsonl and verdict.json.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatVerdict } from '../proof/checker/format.ts';
import { formatProgress, runLoad } from '../proof/generator.ts';
import { HistoryRecorder } from '../proof/history.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import { conclude, judgeRun } from './judgment.ts';

const USAGE = 'usage: run-load [--url http://127.0.0.1:PORT] [--seconds N] [--connections N] [--max-failed N]';

function fail(message: string): never {
  console.error(`run-load: ${message} (${USAGE})`);
  process.exit(2);
}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) fail(`--${name}: must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  return value;
}

let values: Record<string, string | undefined>;
try {
  ({ values } = parseArgs({
    options: { url: { type: 'string' }, seconds: { type: 'string' }, connections: { type: 'string' }, 'max-failed': { type: 'string' } },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  fail((err as Error).message.split('. ')[0]!);
}
const url = values.url ?? 'http://127.0.0.1:8080';
const seconds = integer('seconds', values.seconds, 30, 1, 86_400);
const connections = integer('connections', values.connections, 8, 1, 256);
const maxFailed = integer('max-failed', values['max-failed'], 0, 0, 1_000_000);
const resultsDir = path.resolve(process.env.RESULTS_DIR || 'results');
const recorder = new HistoryRecorder({ fields: mapping.oldColumnNames, file: path.join(resultsDir, 'history.jsonl'), step: 'load' });

console.log(`run-load: ${connections} connections to ${url} for ${seconds} s; history in ${recorder.file}`);
let lastPrinted = 0;
try {
  await runLoad({
    url,
    recorder,
    connections,
    durationSeconds: seconds,
    onProgress: (progress) => {
      // One status line every 5 s (a container log is not a terminal: no carriage-return redraws).
      if (progress.elapsedMs - lastPrinted < 5000) return;
      lastPrinted = progress.elapsedMs;
      console.log(formatProgress(progress, seconds));
    },
  });
} catch (err) {
  fail(`--url: ${(err as Error).message}`);
}
const { verdict, judgment } = await judgeRun({ runner: 'run-load', recorder, snapshots: [], finalReadFrom: url });
const unjudged = judgment.missing();
fs.writeFileSync(path.join(resultsDir, 'verdict.json'), `${JSON.stringify({ ...verdict, unjudged }, null, 2)}\n`);
console.log(formatVerdict(verdict));
console.log(judgment.describe());
const { passed, line } = conclude(verdict, { reasons: unjudged, budget: maxFailed });
console.log(line);
process.exit(passed ? 0 : 1);
