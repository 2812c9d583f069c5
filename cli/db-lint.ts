// npm run db:lint [-- --mysql ADMIN_URL]   checks every migration against the rollout's phase rules before it
// ships (docs/migration-lint.md): each one runs, in order, on a scratch SQLite database and, with --mysql (or
// MYSQL_URL set), on a scratch MySQL/MariaDB database created and dropped through ADMIN_URL
// (mysql://root@127.0.0.1:3306/). One line per finding, naming the migration, its phase, the rule and the
// safe alternative; exit 1 when there is any, 2 on a usage error. `make test` runs it.
import { migrations } from '../shared/migrations/index.ts';
import { lintMigrations } from '../shared/migrations/lint/index.ts';
import { parseOptions, runCli, UsageError } from './cli.ts';

await runCli('db:lint', 'db:lint [--mysql mysql://USER@HOST:PORT/]', async () => {
  const { values } = parseOptions(process.argv.slice(2), { mysql: { type: 'string' } });
  const mysqlAdminUrl = values.mysql ?? (process.env.MYSQL_URL || undefined);
  if (mysqlAdminUrl !== undefined && !/^mysql:\/\/[^/]+\/?$/.test(mysqlAdminUrl)) throw new UsageError(`--mysql: must be a server URL without a database, mysql://USER[:PASS]@HOST:PORT/ (got ${JSON.stringify(mysqlAdminUrl)})`);
  const report = await lintMigrations(migrations, { mysqlAdminUrl });
  for (const finding of report.findings) {
    console.log(`db:lint: ${finding.migration} (${finding.phase}${finding.dialect ? `, ${finding.dialect}` : ''}) ${finding.rule}: ${finding.message}`);
  }
  console.log(`db:lint: ${migrations.length} migrations on ${report.dialects.join(' and ')}: ${report.findings.length === 0 ? 'no findings' : `${report.findings.length} findings`}`);
  return report.findings.length === 0 ? 0 : 1;
});
