// The migrations, in order. Frozen history: once a migration has run anywhere, never edit it; add a new one.
// db:migrate applies all but the last (contract: true); only db:contract runs that one, behind its gate.
import { base } from './001-base.ts';
import { expand } from './002-expand.ts';
import { backfillCheckpoint } from './003-backfill-checkpoint.ts';
import { verifyResults } from './004-verify-results.ts';
import { rolloutLog } from './005-rollout-log.ts';
import { relaxOldColumns } from './007-relax-old-columns.ts';
import { instanceStrategy } from './006-instance-strategy.ts';
import { lookupIndexMigration, withLookupIndexSteppedAside } from './009-lookup-index.ts';
import { contract } from './099-contract.ts';
import type { Migration } from './types.ts';

export const migrations: readonly Migration[] = [base, expand, backfillCheckpoint, verifyResults, rolloutLog, instanceStrategy, relaxOldColumns, lookupIndexMigration, withLookupIndexSteppedAside(contract)];
