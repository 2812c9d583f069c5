// Every fault scenario by name (one file each), for the runner and the tests.
import { backfillResume } from './backfill-resume.ts';
import { crashBetweenWrites } from './crash-between-writes.ts';
import { dbRestart } from './db-restart.ts';
import type { Scenario, ScenarioName } from './harness.ts';
import { killV2 } from './kill-v2.ts';
import { sigtermRolling } from './sigterm-rolling.ts';

export const scenarios: Record<ScenarioName, Scenario> = {
  'kill-v2': killV2,
  'sigterm-rolling': sigtermRolling,
  'db-restart': dbRestart,
  'crash-between-writes': crashBetweenWrites,
  'backfill-resume': backfillResume,
};
