// v1 refuses to start on a contracted schema (099-contract dropped the old columns it reads and writes), with
// one line saying so, instead of starting and answering every request with a 500.
import type { Database } from '../shared/db/connection.ts';
import { tableColumns } from '../shared/migrations/columns.ts';
import { mapping } from '../shared/schema-mapping.ts';

export async function refuseContractedSchema(db: Database): Promise<string | null> {
  const columns = await tableColumns(db, mapping.table);
  const missing = mapping.oldColumnNames.filter((column) => !columns.includes(column));
  if (columns.length === 0 || missing.length === 0) return null;
  return `v1 cannot start: the schema was contracted (099-contract dropped ${mapping.table}.${missing.join(` and ${mapping.table}.`)}); run v2, or npm run db:migrate:down to restore the old columns`;
}
