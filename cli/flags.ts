// npm run flags -- get
// npm run flags -- set read-new-percent 25
// Every instance picks a change up within a second; `status` shows which flag-set version each has loaded.
import { flagDefinitions, flagNameOf, flagNames, parseFlagValue } from '../shared/flags/registry.ts';
import type { FlagName, FlagValues } from '../shared/flags/registry.ts';
import { readFlagSet } from '../shared/flags/store.ts';
import { gatedFlagWrite } from '../shared/rollout/flag-gate.ts';
import { openDatabase, parseOptions, runCli, UsageError } from './cli.ts';

const usage = 'flags get | flags set NAME VALUE [NAME VALUE ...]';

await runCli('flags', usage, async () => {
  const { positionals } = parseOptions(process.argv.slice(2), {}, { positionals: 99 });
  const [command, ...args] = positionals;
  if (command === 'get') {
    if (args.length > 0) throw new UsageError(`get takes no arguments (got ${JSON.stringify(args[0])})`);
  } else if (command === 'set') {
    if (args.length === 0 || args.length % 2 !== 0) throw new UsageError('set takes NAME VALUE pairs');
  } else {
    throw new UsageError(`unknown command ${JSON.stringify(command ?? '')}`);
  }
  const changes: Partial<Record<FlagName, unknown>> = {};
  for (let i = 0; i < args.length; i += 2) {
    const parsed = parseFlagValue(args[i]!, args[i + 1]!, { fromText: true });
    if (!parsed.ok) throw new UsageError(parsed.error);
    // A former name (shadow-compare) sets the flag it now names.
    changes[flagNameOf(args[i]!)!] = parsed.value;
  }
  const db = await openDatabase();
  try {
    if (command === 'set') {
      // Stage flags change only through `npm run rollout`, and read-new-percent rises only past the read-shift gate.
      const written = await gatedFlagWrite(db, changes as Partial<FlagValues>, `cli@${process.env.USER ?? 'unknown'}`);
      if (!written.ok) throw new Error(`refused: ${written.refusal}`);
      console.log(`flag set version ${written.version}: ${Object.entries(changes).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    }
    const set = await readFlagSet(db);
    if (!set) throw new Error('no flag tables yet: run npm run db:migrate (002-expand creates them)');
    console.log(`flag set version ${set.version}`);
    for (const name of flagNames) console.log(`  ${name.padEnd(20)} ${String(set.values[name]).padEnd(6)} ${flagDefinitions[name].description}`);
  } finally {
    await db.close();
  }
});
