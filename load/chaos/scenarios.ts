// Every fault scenario by name (one file each), for the runner and the tests.
import { backfillResume } from './backfill-resume.ts';
import { crashBetweenWrites } from './crash-between-writes.ts';
import { cutOffV2 } from './cut-off-v2.ts';
import { dbRestart } from './db-restart.ts';
import { frozenV1 } from './frozen-v1.ts';
import type { Scenario, ScenarioName } from './harness.ts';
import { killV2 } from './kill-v2.ts';
import { lateV1 } from './late-v1.ts';
import { sigtermRolling } from './sigterm-rolling.ts';

export const scenarios: Record<ScenarioName, Scenario> = {
  'kill-v2': killV2,
  'sigterm-rolling': sigtermRolling,
  'db-restart': dbRestart,
  'crash-between-writes': crashBetweenWrites,
  'backfill-resume': backfillResume,
  'late-v1': lateV1,
  'cut-off-v2': cutOffV2,
  'frozen-v1': frozenV1,
};
