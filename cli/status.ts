// npm run status: which instances run which version (alive, grouped by version), which stopped recently,
// which flag-set version each has loaded, and the current flag values.
import { readFlagSet } from '../shared/flags/store.ts';
import { appliedMigrations } from '../shared/migrations/runner.ts';
import { instanceRegistry } from '../shared/registry/instances.ts';
import type { InstanceRow } from '../shared/registry/instances.ts';
import { openDatabase, parseOptions, runCli } from './cli.ts';

await runCli('status', 'status [--json]', async () => {
  const { values } = parseOptions(process.argv.slice(2), { json: { type: 'boolean' } });
  const db = await openDatabase();
  try {
    const [{ alive, gone }, flags, schema] = await Promise.all([instanceRegistry(db).list({ recent: 10 }), readFlagSet(db), appliedMigrations(db)]);
    if (values.json) {
      console.log(JSON.stringify({ schema, flags, alive, gone }, null, 2));
      return;
    }
    console.log(`schema: ${schema.join(', ') || 'empty'}`);
    const versions = [...new Set(alive.map((i) => i.appVersion))].sort();
    console.log(`alive instances: ${alive.length}${versions.map((v) => `  ${v}: ${alive.filter((i) => i.appVersion === v).length}`).join('')}`);
    for (const version of versions) {
      for (const i of alive.filter((row) => row.appVersion === version)) console.log(`  ${line(i, flags?.version ?? null)}`);
    }
    console.log(`recently stopped or vanished: ${gone.length}`);
    for (const i of gone) console.log(`  ${line(i, flags?.version ?? null)}  ${i.stoppedAt ? `stopped ${i.stoppedAt}` : `last seen ${i.lastSeen} (no clean stop)`}`);
    if (flags) {
      console.log(`flags (version ${flags.version}): ${Object.entries(flags.values).map(([k, v]) => `${k}=${v}`).join('  ')}`);
    } else {
      console.log('flags: none yet (002-expand not applied)');
    }
  } finally {
    await db.close();
  }
});

function line(i: InstanceRow, currentFlagVersion: number | null): string {
  const flagState = i.flagSetVersion === currentFlagVersion ? 'flags current' : `flags v${i.flagSetVersion ?? '-'} (current v${currentFlagVersion ?? '-'})`;
  return `${i.appVersion} ${i.instanceId.padEnd(24)} ${i.address.padEnd(21)} pid ${String(i.pid).padEnd(7)} started ${i.startedAt}  ${flagState}`;
}
