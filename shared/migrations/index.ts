// The migrations, in order. Frozen history: once a migration has run anywhere, never edit it; add a new one.
import { base } from './001-base.ts';
import { expand } from './002-expand.ts';
import type { Migration } from './types.ts';

export const migrations: readonly Migration[] = [base, expand];
