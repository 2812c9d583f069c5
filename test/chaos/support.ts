// Running one chaos scenario's short version (CHAOS_SHORT) inside a test: the same code `make chaos` runs, on
// MySQL/MariaDB behind nginx (the Node proxy when nginx is missing and REQUIRE_NGINX is unset), with its
// results in a temp dir. The scenario's printed lines are kept and shown only when an assertion fails.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChaosOptions, ChaosResult, ScenarioName } from '../../load/chaos/harness.ts';
import { scenarios } from '../../load/chaos/scenarios.ts';
import type { SyncMode } from '../../shared/sync/mode.ts';
import { MYSQL_URL } from '../support/databases.ts';

export interface ShortRun {
  result: ChaosResult;
  /** The JSON the scenario wrote, read back. */
  written: ChaosResult;
  /** Everything it printed, for assertion messages. */
  output: string;
}

/** `sync`: the sync mode, as `make chaos SYNC=...` passes it (default app). */
export async function runShort(name: ScenarioName, { sync, ...extra }: { sync?: SyncMode } & Pick<ChaosOptions, 'holdFirstDirectPutMs'> = {}): Promise<ShortRun> {
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), `chaos-${name}-`));
  const lines: string[] = [];
  const result = await scenarios[name].run({ short: true, ...(sync ? { sync } : {}), ...extra, resultsDir, mysqlUrl: MYSQL_URL, log: (line) => lines.push(line) });
  const written = JSON.parse(fs.readFileSync(path.join(resultsDir, `chaos-${name}.json`), 'utf8')) as ChaosResult;
  // A failed run keeps its history and summary for whoever has to find out why.
  if (result.passed) fs.rmSync(resultsDir, { recursive: true, force: true });
  else lines.push(`history and summary kept in ${resultsDir}`);
  return { result, written, output: lines.join('\n') };
}

export const CHAOS_TEST_TIMEOUT_MS = 240_000;
