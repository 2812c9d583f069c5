// The migration linter (npm run db:lint): the order rules on the list, then the phase rules on what each
// migration really does on a scratch database of each dialect asked for (SQLite always; MySQL/MariaDB when an
// admin URL is given). docs/migration-lint.md lists the rules.
import type { Migration } from '../types.ts';
import { lintOrder, lintTrace } from './rules.ts';
import type { Finding } from './rules.ts';
import { traceOnScratchDatabase } from './trace.ts';

export type { Finding } from './rules.ts';

export interface LintReport {
  /** One per dialect linted: "sqlite 3.45.1", "mariadb 10.11.6". */
  dialects: string[];
  findings: (Finding & { dialect: string | null })[];
}

/** Lints on SQLite (unless sqlite: false) and, with mysqlAdminUrl, on MySQL/MariaDB. */
export async function lintMigrations(migrations: readonly Migration[], { sqlite = true, mysqlAdminUrl }: { sqlite?: boolean; mysqlAdminUrl?: string } = {}): Promise<LintReport> {
  const report: LintReport = { dialects: [], findings: lintOrder(migrations).map((finding) => ({ ...finding, dialect: null })) };
  for (const adminUrl of [...(sqlite ? [undefined] : []), ...(mysqlAdminUrl ? [mysqlAdminUrl] : [])]) {
    const trace = await traceOnScratchDatabase(migrations, adminUrl);
    report.dialects.push(trace.dialect);
    report.findings.push(...lintTrace(trace).map((finding) => ({ ...finding, dialect: trace.dialect })));
  }
  return report;
}
