// npm run preflight (make preflight): can this machine run the workshop? Installs nothing; exit 1 only when the
// SQLite path cannot run (MariaDB and nginx are optional). MYSQL_URL: where to look for MariaDB/MySQL.
import { formatPreflight, preflight } from './preflight.ts';

const result = await preflight();
console.log(formatPreflight(result));
process.exit(result.sqlitePathRuns ? 0 : 1);
