// make chaos [SCENARIO=<name>] [CHAOS_SHORT=1] [SYNC=app|trigger]: the fault scenarios, each under load through
// the balancer and judged by the consistency checker. Each prints its verdict and writes $RESULTS_DIR/chaos-<name>.json; this
// runner ends with one line per scenario, naming the sync mode, and exits 1 when any failed (2 on a bad SCENARIO,
// CHAOS_SHORT or SYNC, or SYNC=trigger with a mapping no trigger can run: refused before anything starts).
// SYNC=trigger: each scenario's expand phase records the mode and installs the sync triggers as
// `SYNC=trigger npm run db:migrate` does (docs/sync-strategies.md says what changes per scenario).
// Needs MySQL/MariaDB at MYSQL_URL (db-restart also needs mariadbd to start a private server) and nginx
// (BALANCER=node uses the Node proxy instead).
import fs from 'node:fs';
import path from 'node:path';
import { haltIfInterrupted, incompleteSummary, installInterruptHandling, onInterruptWriteResults, SIGNAL_GRACE_MS } from '../infra/cleanup.ts';
import { parseRunnableSyncMode } from '../../shared/rollout/sync.ts';
import { DEFAULT_SYNC_MODE } from '../../shared/sync/mode.ts';
import type { SyncMode } from '../../shared/sync/mode.ts';
import { SCENARIO_NAMES } from './harness.ts';
import type { ChaosResult, ScenarioName } from './harness.ts';
import { scenarios } from './scenarios.ts';

const requested = process.env.SCENARIO?.trim() || process.argv[2];
if (requested && !(SCENARIO_NAMES as readonly string[]).includes(requested)) {
  console.error(`chaos: SCENARIO must be one of ${SCENARIO_NAMES.join(', ')} (got ${JSON.stringify(requested)})`);
  process.exit(2);
}
if (process.env.CHAOS_SHORT && !['0', '1'].includes(process.env.CHAOS_SHORT)) {
  console.error(`chaos: CHAOS_SHORT must be 0 or 1 (got ${JSON.stringify(process.env.CHAOS_SHORT)})`);
  process.exit(2);
}
let sync: SyncMode;
try {
  sync = parseRunnableSyncMode(process.env.SYNC) ?? DEFAULT_SYNC_MODE;
} catch (err) {
  console.error(`chaos: ${(err as Error).message}`);
  process.exit(2);
}
const short = process.env.CHAOS_SHORT === '1';
const resultsDir = path.resolve(process.env.RESULTS_DIR || 'results');
const mysqlUrl = process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/';
fs.mkdirSync(resultsDir, { recursive: true });
// Ctrl-C, SIGTERM, SIGHUP: every scenario's instances, nginx, servers and databases are stopped (load/infra/cleanup.ts).
installInterruptHandling({ tool: 'chaos', resultsDir });

const names: ScenarioName[] = requested ? [requested as ScenarioName] : [...SCENARIO_NAMES];
const results: ChaosResult[] = [];
const setupFailures: string[] = [];
let current: ScenarioName | undefined;
onInterruptWriteResults((signal) => {
  if (!current) return;
  const file = path.join(resultsDir, `chaos-${current}.json`);
  fs.writeFileSync(file, `${JSON.stringify({ scenario: current, short, sync, ...incompleteSummary(signal, current) }, null, 2)}\n`);
  const finished = results.map((r) => `${r.scenario} ${r.passed ? 'passed' : 'FAILED'}`).join(', ') || 'none';
  return `chaos: finished before the interrupt: ${finished}; ${current} not judged (${path.relative(process.cwd(), file)} marked incomplete)`;
});
for (const [i, name] of names.entries()) {
  const scenario = scenarios[name];
  current = name;
  console.log(`\n== chaos ${i + 1}/${names.length}: ${name}${short ? ' (short)' : ''}, SYNC=${sync}\n   proves: ${scenario.provesUnder?.[sync] ?? scenario.proves}`);
  let result: ChaosResult;
  try {
    result = await scenario.run({ short, sync, resultsDir, mysqlUrl, log: (line) => console.log(line) });
  } catch (err) {
    await haltIfInterrupted(SIGNAL_GRACE_MS);
    // It could not even set up (no database, no nginx with REQUIRE_NGINX=1, no mariadbd): say so, go on.
    setupFailures.push(`${name}: could not start: ${(err as Error).message.split('\n')[0]}`);
    console.log(`FAILED: ${setupFailures.at(-1)}`);
    continue;
  }
  results.push(result);
  console.log(`${result.passed ? 'PASSED' : 'FAILED'}: ${name}: ${summaryLine(result)}`);
  for (const failure of result.failures) console.log(`   - ${failure}`);
}

console.log(`\n${'='.repeat(100)}\nchaos summary${short ? ' (short versions)' : ''}, SYNC=${sync}; details in ${path.relative(process.cwd(), resultsDir) || '.'}/chaos-<name>.json`);
for (const result of results) console.log(`${(result.passed ? 'PASS' : 'FAIL').padEnd(5)} ${result.scenario.padEnd(22)} ${summaryLine(result)}`);
for (const failure of setupFailures) console.log(`FAIL  ${failure}`);
const failed = results.filter((r) => !r.passed).length + setupFailures.length;
console.log(failed === 0 ? `all ${names.length} scenarios passed (SYNC=${sync})` : `${failed} of ${names.length} scenarios FAILED (SYNC=${sync})`);
process.exit(failed === 0 ? 0 : 1);

function summaryLine(r: ChaosResult): string {
  return (
    `${r.requests} requests, ${r.acknowledgedWrites} acknowledged writes, ${r.unknownOutcomes} unknown outcomes, ` +
    `${r.failedRequests} failed (budget ${r.budget.failedRequests}: ${r.budget.rule}), ${r.anomalies} anomalies, ${r.seconds} s`
  );
}
