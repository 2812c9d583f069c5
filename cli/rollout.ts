// npm run rollout -- status [--json]            the stage (derived from registry, flags, checkpoints, verifies),
//                                               what blocks the next one, alarms (exit 1 when one is raised)
// npm run rollout -- advance [--percent N]      move one stage forward: refused with the reason unless its gate
// npm run rollout -- rollback [--percent N]     holds; complete only once every alive instance has loaded the
//                                               change (--wait-timeout-ms, default 30000)
import os from 'node:os';
import { describeLagging, fleetWaitReporter } from '../shared/rollout/flag-propagation.ts';
import { formatStatus, rolloutStatus } from '../shared/rollout/status.ts';
import { transition } from '../shared/rollout/transitions.ts';
import { openDatabase, parseOptions, runCli, UsageError } from './cli.ts';
import { integerOption } from './integer-option.ts';

const usage = 'rollout status [--json] | rollout advance [--percent N] [--wait-timeout-ms N] | rollout rollback [--percent N] [--wait-timeout-ms N]';

await runCli('rollout', usage, async () => {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== 'status' && command !== 'advance' && command !== 'rollback') throw new UsageError(`unknown command ${JSON.stringify(command ?? '')}`);
  if (command === 'status') {
    const { values } = parseOptions(rest, { json: { type: 'boolean' } });
    const db = await openDatabase();
    try {
      const status = await rolloutStatus(db);
      console.log(values.json ? JSON.stringify(status, null, 2) : formatStatus(status));
      return status.alarms.length > 0 ? 1 : 0;
    } finally {
      await db.close();
    }
  }
  const { values } = parseOptions(rest, { percent: { type: 'string' }, 'wait-timeout-ms': { type: 'string' } });
  const percent = integerOption('percent', values.percent, { min: 0, max: 100 });
  const waitTimeoutMs = integerOption('wait-timeout-ms', values['wait-timeout-ms'], { min: 0, max: 3_600_000 });
  const db = await openDatabase();
  try {
    const result = await transition(db, command, {
      percent,
      waitTimeoutMs,
      actor: `cli@${os.userInfo().username}`,
      onProgress: fleetWaitReporter({ prefix: `rollout ${command}`, write: (text) => process.stdout.write(text), tty: process.stdout.isTTY === true }),
    });
    switch (result.outcome) {
      case 'completed':
        console.log(`rollout ${command}: ${result.from.label} -> ${result.to.label}: completed (flag-set version ${result.version} loaded by every alive instance after ${result.waitedMs} ms)`);
        return 0;
      case 'refused':
        console.error(`rollout ${command}: refused (${result.from.label}${result.to ? ` -> ${result.to.label}` : ''}): ${result.reasons.join('; ')}`);
        return 1;
      case 'manual':
        console.error(`rollout ${command}: the next step from ${result.from.label} is not a flag change: ${result.command}`);
        return 1;
      case 'timed-out':
        console.error(
          `rollout ${command}: NOT complete (${result.from.label} -> ${result.to.label}): flag-set version ${result.version} is written, but ${describeLagging(result.lagging, result.version)}; ` +
            'watch npm run rollout -- status until every instance has it, or npm run rollout -- rollback',
        );
        return 1;
    }
  } finally {
    await db.close();
  }
});
