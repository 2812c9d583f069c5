// The migrations, in order. Frozen history: once a migration has run anywhere, never edit it; add a new one.
// db:migrate applies all but the last (contract: true); only db:contract runs that one, behind its gate.
import { base } from './001-base.ts';
import { expand } from './002-expand.ts';
import { backfillCheckpoint } from './003-backfill-checkpoint.ts';
import { verifyResults } from './004-verify-results.ts';
import { rolloutLog } from './005-rollout-log.ts';
import { relaxOldColumns } from './007-relax-old-columns.ts';
import { instanceStrategy } from './006-instance-strategy.ts';
import { lookupIndexMigration, withLookupIndexSteppedAside } from './006-lookup-index.ts';
import { stringKeyRanges } from './006-string-key-ranges.ts';
import { contract } from './099-contract.ts';
import type { Migration } from './types.ts';

// The 006-* after 006-instance-strategy came after 007 was written, but they belong to the expand phase, which ends
// before 007 (applied at new-only: load/rollout/steps/10-new-only.ts): so they run, and sort, between them.
export const migrations: readonly Migration[] = [
  base,
  expand,
  backfillCheckpoint,
  verifyResults,
  rolloutLog,
  instanceStrategy,
  lookupIndexMigration,
  stringKeyRanges,
  withLookupIndexSteppedAside(relaxOldColumns),
  withLookupIndexSteppedAside(contract),
];
