// The rollout's alert rules and Grafana dashboard (deploy/prometheus/, deploy/grafana/), checked with Debian's
// promtool (package `prometheus`; REQUIRE_PROMTOOL=1, set by CI, makes its absence a failure): the rules load,
// every alert has a firing and a quiet case in the rules' unit tests, which pass and fail once an expression is
// wrong; every series they and the dashboard read is one the apps or the SQL exporter export; each runbook link
// has its section. The SQL exporter's queries (deploy/prometheus/sql-exporter.yml) run on MariaDB against backfill
// and verify rows in the real schema.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { mysqlTarget } from '../support/databases.ts';
import type { TestDatabase } from '../support/databases.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const RULES = path.join(ROOT, 'deploy/prometheus/rollout-alerts.yml');
const RULE_TESTS = path.join(ROOT, 'deploy/prometheus/rollout-alerts.test.yml');
const DASHBOARD = path.join(ROOT, 'deploy/grafana/rollout-dashboard.json');
const SQL_EXPORTER = path.join(ROOT, 'deploy/prometheus/sql-exporter.yml');
const run = promisify(execFile);

const promtool = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'promtool')).find((file) => fs.existsSync(file)) ?? null;
if (!promtool && process.env.REQUIRE_PROMTOOL === '1') throw new Error('promtool not found on PATH (REQUIRE_PROMTOOL=1; Debian: apt-get install prometheus)');

interface Rule { alert: string; expr: string; annotations: Record<string, string>; labels: Record<string, string> }
const rules = (parse(fs.readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const ruleTests = parse(fs.readFileSync(RULE_TESTS, 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
interface ExporterMetric { metric_name: string; key_labels: string[]; values: string[]; query: string }
const exporterMetrics = (parse(fs.readFileSync(SQL_EXPORTER, 'utf8')) as { collectors: { metrics: ExporterMetric[] }[] }).collectors.flatMap((c) => c.metrics);
const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };

/** The metric names shared/metrics.ts registers (histograms also as _bucket, _sum, _count), and the SQL exporter's. */
function exportedSeries(): Set<string> {
  const source = fs.readFileSync(path.join(ROOT, 'shared/metrics.ts'), 'utf8');
  const names = new Set<string>();
  for (const [, kind, name] of source.matchAll(/new (Counter|Gauge|Histogram)\(\{\s*name: '(\w+)'/g)) {
    names.add(name!);
    if (kind === 'Histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  for (const metric of exporterMetrics) names.add(metric.metric_name);
  return names;
}
/** The metric names a PromQL expression reads: what is left once label matchers, ranges, label lists and
 * function calls are taken out. */
function seriesRead(expr: string): string[] {
  const stripped = expr
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...stripped.matchAll(/\b([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)].map((m) => m[1]!).filter((word) => !/^(and|or|unless|bool|offset)$/.test(word));
}

let tempDir: string | null = null;
afterEach(() => {
  if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  tempDir = null;
});

describe('alert rules and dashboard for the rollout', () => {
  it('When every alert expression and dashboard query is read, then it reads only series the apps or the SQL exporter export', () => {
    const exported = exportedSeries();
    expect(exported.has('read_fallbacks_total')).toBe(true);
    const queries = [...rules.map((r) => [r.alert, r.expr]), ...dashboard.panels.flatMap((p) => p.targets.map((t) => [p.title, t.expr]))] as [string, string][];

    expect(rules.length).toBeGreaterThanOrEqual(5);
    for (const [where, expr] of queries) {
      const read = seriesRead(expr);
      expect(read.length, where).toBeGreaterThan(0);
      for (const series of read) expect(exported.has(series), `${where}: ${series}`).toBe(true);
    }
    // The helper can fail: a series no app exports is caught.
    expect(seriesRead('sum by (version) (rate(backfill_rows_total[5m]))').filter((s) => !exported.has(s))).toEqual(['backfill_rows_total']);
  });

  it('When each alert is read, then it has a runbook link to a section docs/runbooks.md has, a severity and a stage, and a firing and a quiet unit test', () => {
    const runbooks = fs.readFileSync(path.join(ROOT, 'docs/runbooks.md'), 'utf8');
    const anchors = new Set([...runbooks.matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^\w\- ]/g, '').trim().replace(/ /g, '-')));
    const cases = ruleTests.tests.flatMap((t) => t.alert_rule_test);

    for (const rule of rules) {
      const anchor = /runbooks\.md#([\w-]+)"?$/.exec(rule.annotations.runbook_url ?? '')?.[1];
      expect(anchor && anchors.has(anchor), `${rule.alert}: runbook ${rule.annotations.runbook_url}`).toBe(true);
      expect(rule.labels.severity, rule.alert).toMatch(/^(page|ticket)$/);
      expect(rule.labels.stage, rule.alert).toBeTruthy();
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(mine.some((c) => c.exp_alerts.length > 0), `${rule.alert}: a firing case`).toBe(true);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${rule.alert}: a quiet case`).toBe(true);
    }
  });

  describe.skipIf(!promtool)('promtool', () => {
    it('When promtool checks the rules and runs their unit tests, then both succeed', async () => {
      const checked = await run(promtool!, ['check', 'rules', RULES]);
      expect(checked.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
      const tested = await run(promtool!, ['test', 'rules', RULE_TESTS]);
      expect(tested.stdout).toContain('SUCCESS');
    });

    // One planted mistake per alert, each in its own copy of the rules; one promtool run tests them all.
    it('When any one alert has a wrong expression, then promtool still accepts the rules but that alert\'s unit tests fail', async () => {
      const mistakes: [string, string, string][] = [
        ['RolloutErrorRateByVersion', 'status=~"5.."', 'status=~"4.."'],
        ['RolloutReadFallbackRateHigh', '> 0.01', '> 0.1'],
        ['RolloutDualReadMismatch', 'reason=~"different|invalid"', 'reason=~"missing"'],
        ['RolloutV1AliveAfterLive', '== 1', '== 0'],
        ['RolloutInstanceOnOldFlagSet', 'feature_flag_set_version < on', 'feature_flag_set_version > on'],
        ['RolloutBackfillStalled', '> 60', '> 6000'],
        ['RolloutBackfillLagging', '> 4 * 3600', '> 40 * 3600'],
        ['RolloutVerifyDriftAfterBackfill', '> 0', '< 0'],
      ];
      expect(mistakes.map((m) => m[0]).sort()).toEqual(rules.map((r) => r.alert).sort());
      tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-alerts-'));
      const testFiles = mistakes.map(([alert, right, wrong]) => {
        const broken = parse(fs.readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] };
        const rule = broken.groups.flatMap((g) => g.rules).find((r) => r.alert === alert)!;
        expect(rule.expr).toContain(right);
        rule.expr = rule.expr.replace(right, wrong);
        const dir = path.join(tempDir!, alert);
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, 'rollout-alerts.yml'), stringify(broken));
        fs.copyFileSync(RULE_TESTS, path.join(dir, 'rollout-alerts.test.yml'));
        return path.join(dir, 'rollout-alerts.test.yml');
      });

      await run(promtool!, ['check', 'rules', ...testFiles.map((file) => file.replace('.test.yml', '.yml'))]);
      // promtool prints each file's header on stdout and its failures on stderr: one stream keeps them in order.
      const output = await run('sh', ['-c', '"$0" test rules "$@" 2>&1', promtool!, ...testFiles]).then(
        ({ stdout }) => stdout,
        (err: { stdout: string }) => err.stdout,
      );
      for (const [alert] of mistakes) {
        const section = output.split(/^Unit Testing: +/m).find((part) => part.startsWith(path.join(tempDir!, alert)));
        expect(section, alert).toMatch(new RegExp(`FAILED:[^]*alertname: ${alert},`));
      }
    });

    it('When every dashboard query is checked as PromQL by promtool, then each parses', async () => {
      tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-dashboard-'));
      const recording = dashboard.panels.flatMap((p, i) => p.targets.map((t, j) => ({ record: `dashboard:panel${i}_${j}`, expr: t.expr })));
      fs.writeFileSync(path.join(tempDir, 'queries.yml'), stringify({ groups: [{ name: 'dashboard', rules: recording }] }));

      const { stdout } = await run(promtool!, ['check', 'rules', path.join(tempDir, 'queries.yml')]);
      expect(stdout).toContain(`SUCCESS: ${recording.length} rules found`);
      // ... and promtool refuses a malformed one, so the check can fail.
      fs.writeFileSync(path.join(tempDir, 'bad.yml'), stringify({ groups: [{ name: 'dashboard', rules: [{ record: 'dashboard:bad', expr: 'sum by (version (rate(http_requests_total[1m]))' }] }] }));
      await expect(run(promtool!, ['check', 'rules', path.join(tempDir, 'bad.yml')])).rejects.toThrow();
    });
  });
});

const target = await mysqlTarget();

describe.skipIf(target.skip !== null)(target.skip ? `SQL exporter queries (SKIPPED: ${target.skip})` : 'the SQL exporter\'s queries on MySQL/MariaDB', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await target.create();
  });
  afterAll(async () => {
    await database?.drop();
  });

  /** Each exporter metric as sql_exporter builds it: the labels and the value of every row its query returns. */
  async function scrape(): Promise<Record<string, { labels: Record<string, string>; value: number }[]>> {
    const connection = await mysql.createConnection({ uri: database.url });
    try {
      const scraped: Record<string, { labels: Record<string, string>; value: number }[]> = {};
      for (const metric of exporterMetrics) {
        const [rows] = await connection.query(metric.query);
        scraped[metric.metric_name] = (rows as Record<string, unknown>[]).map((row) => ({
          labels: Object.fromEntries(metric.key_labels.map((label) => [label, String(row[label])])),
          value: Number(row[metric.values[0]!]),
        }));
      }
      return scraped;
    } finally {
      await connection.end();
    }
  }
  const insertBackfill = (fields: { status: string; next: number; end: number; updatedAgoS: number; finishedAgoS?: number }) =>
    database.db.run(
      `INSERT INTO backfill_runs (direction, status, range_start, range_end, next_id, rows_changed, batches, retries, owner, started_at, updated_at, finished_at)
       VALUES ('forward', $1, 1, $2, $3, 0, 0, 0, 'alerts-test', NOW(3) - INTERVAL 1 HOUR, NOW(3) - INTERVAL $4 SECOND, ${fields.finishedAgoS === undefined ? 'NULL' : `NOW(3) - INTERVAL ${fields.finishedAgoS} SECOND`})`,
      [fields.status, fields.end, fields.next, fields.updatedAgoS],
    );
  const insertVerify = (startedAgoS: number, drift: number) =>
    database.db.run(
      `INSERT INTO verify_runs (mode, started_at, finished_at, rows_checked, missing, invalid, different, drift, owner)
       VALUES ('dual', NOW(3) - INTERVAL $1 SECOND, NOW(3) - INTERVAL $1 SECOND, 100, $2, 0, 0, $2, 'alerts-test')`,
      [startedAgoS, drift],
    );

  it('When a backfill runs, then finishes, and verifies run before and after it, then each series holds what the alerts expect', async () => {
    await database.db.run('DELETE FROM backfill_runs');
    await database.db.run('DELETE FROM verify_runs');
    await insertVerify(7200, 40);
    expect(await scrape()).toEqual({ rollout_backfill_remaining_keys: [], rollout_backfill_heartbeat_age_seconds: [], rollout_verify_drift_after_backfill_rows: [] });

    await insertBackfill({ status: 'running', next: 301, end: 1000, updatedAgoS: 90 });
    const running = await scrape();
    expect(running.rollout_backfill_remaining_keys).toEqual([{ labels: { direction: 'forward' }, value: 700 }]);
    expect(running.rollout_backfill_heartbeat_age_seconds).toEqual([{ labels: { direction: 'forward' }, value: expect.closeTo(90, -1) as unknown as number }]);
    expect(running.rollout_verify_drift_after_backfill_rows).toEqual([]);

    await database.db.run("UPDATE backfill_runs SET status = 'done', next_id = 1001, finished_at = NOW(3) - INTERVAL 600 SECOND WHERE owner = 'alerts-test'");
    await insertVerify(300, 3);
    const drifted = await scrape();
    expect(drifted.rollout_backfill_remaining_keys).toEqual([]);
    expect(drifted.rollout_verify_drift_after_backfill_rows).toEqual([{ labels: { mode: 'dual' }, value: 3 }]);

    await insertVerify(60, 0);
    expect((await scrape()).rollout_verify_drift_after_backfill_rows).toEqual([{ labels: { mode: 'dual' }, value: 0 }]);
  });
});
