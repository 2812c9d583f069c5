// make chaos [SCENARIO=<name>] [CHAOS_SHORT=1]: the fault scenarios, each under load through the balancer and
// judged by the consistency checker. Each prints its verdict and writes $RESULTS_DIR/chaos-<name>.json; this
// runner ends with one line per scenario and exits 1 when any failed (2 on a bad SCENARIO).
// Needs MySQL/MariaDB at MYSQL_URL (db-restart also needs mariadbd to start a private server) and nginx
// (BALANCER=node uses the Node proxy instead).
import fs from 'node:fs';
import path from 'node:path';
import { haltIfInterrupted, incompleteSummary, installInterruptHandling, onInterruptWriteResults, SIGNAL_GRACE_MS } from '../infra/cleanup.ts';
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
  fs.writeFileSync(file, `${JSON.stringify({ scenario: current, short, ...incompleteSummary(signal, current) }, null, 2)}\n`);
  const finished = results.map((r) => `${r.scenario} ${r.passed ? 'passed' : 'FAILED'}`).join(', ') || 'none';
  return `chaos: finished before the interrupt: ${finished}; ${current} not judged (${path.relative(process.cwd(), file)} marked incomplete)`;
});
for (const [i, name] of names.entries()) {
  const scenario = scenarios[name];
  current = name;
  console.log(`\n== chaos ${i + 1}/${names.length}: ${name}${short ? ' (short)' : ''}\n   proves: ${scenario.proves}`);
  let result: ChaosResult;
  try {
    result = await scenario.run({ short, resultsDir, mysqlUrl, log: (line) => console.log(line) });
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

console.log(`\n${'='.repeat(100)}\nchaos summary${short ? ' (short versions)' : ''}; details in ${path.relative(process.cwd(), resultsDir) || '.'}/chaos-<name>.json`);
for (const result of results) console.log(`${(result.passed ? 'PASS' : 'FAIL').padEnd(5)} ${result.scenario.padEnd(22)} ${summaryLine(result)}`);
for (const failure of setupFailures) console.log(`FAIL  ${failure}`);
const failed = results.filter((r) => !r.passed).length + setupFailures.length;
console.log(failed === 0 ? `all ${names.length} scenarios passed` : `${failed} of ${names.length} scenarios FAILED`);
process.exit(failed === 0 ? 0 : 1);

function summaryLine(r: ChaosResult): string {
  return (
    `${r.requests} requests, ${r.acknowledgedWrites} acknowledged writes, ${r.unknownOutcomes} unknown outcomes, ` +
    `${r.failedRequests} failed (budget ${r.budget.failedRequests}: ${r.budget.rule}), ${r.anomalies} anomalies, ${r.seconds} s`
  );
}
