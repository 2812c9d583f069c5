// The load scenario on its own, against a balancer that is already running (docker-compose.yml's `load`
// service, or your own): autocannon creates, updates and reads for --seconds, every request recorded in the
// history, then a final read of every user and the checker's verdict. The exit code is the verdict: 0 only
// with 0 anomalies and failed requests within --max-failed; 1 otherwise; 2 on a bad option.
// While it runs, walk the rollout steps in another terminal: the verdict covers whatever happened meanwhile.
//   node dist/load/run-load.js [--url http://127.0.0.1:8080] [--seconds 30] [--connections 8] [--max-failed 0]
// Writes RESULTS_DIR (default results/): history.jsonl and verdict.json.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { check } from './checker/index.ts';
import { formatVerdict } from './checker/format.ts';
import { formatProgress, readFinalValues, runLoad } from './generator.ts';
import { HistoryRecorder } from './history.ts';

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
const recorder = new HistoryRecorder({ file: path.join(resultsDir, 'history.jsonl'), step: 'load' });

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
recorder.currentStep = 'final';
recorder.recordFinal(await readFinalValues(url, recorder.userIds()));
await recorder.close();
const verdict = check({ ops: recorder.ops, initial: recorder.initial, final: recorder.final, snapshots: [] });
fs.writeFileSync(path.join(resultsDir, 'verdict.json'), `${JSON.stringify(verdict, null, 2)}\n`);
console.log(formatVerdict(verdict));
const passed = verdict.anomalies === 0 && verdict.failedRequests <= maxFailed;
console.log(
  passed
    ? `PASSED: ${verdict.acknowledgedWrites} acknowledged writes, ${verdict.reads} reads, 0 anomalies, ${verdict.failedRequests} failed requests.`
    : `FAILED: ${verdict.anomalies} anomalies, ${verdict.failedRequests} failed requests (budget ${maxFailed}).`,
);
process.exit(passed ? 0 : 1);
