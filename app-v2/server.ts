// Entry point of v2: only starts it (npm run start:v2), unless the schema cannot serve the write mode.
import { runInstance } from '../shared/server/run-instance.ts';
import { buildV2App } from './app.ts';
import { refuseDualWriteWithoutOldColumns } from './schema-check.ts';

await runInstance('v2', { checkSchema: refuseDualWriteWithoutOldColumns, buildApp: buildV2App });
