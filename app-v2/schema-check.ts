// v2 refuses to start when the old columns are gone (contracted) but the write mode is still dual: every write
// would fail. After contract only write mode new-only can serve (it never names the old columns).
import type { Database } from '../shared/db/connection.ts';
import { readFlagSet } from '../shared/flags/store.ts';
import { tableColumns } from '../shared/migrations/columns.ts';
import { mapping } from '../shared/schema-mapping.ts';

export async function refuseDualWriteWithoutOldColumns(db: Database): Promise<string | null> {
  const columns = await tableColumns(db, mapping.table);
  if (columns.length === 0 || mapping.oldColumnNames.every((column) => columns.includes(column))) return null;
  const writeMode = (await readFlagSet(db))?.values['write-mode'] ?? 'dual';
  if (writeMode === 'new-only') return null;
  return `v2 cannot start: the schema was contracted (no ${mapping.table}.${mapping.oldColumnNames.join('/')}) but write-mode is ${writeMode}; npm run db:migrate:down restores the columns`;
}
