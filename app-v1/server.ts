// Entry point of v1: only starts it (npm run start:v1), unless the schema was contracted.
import { runInstance } from '../shared/server/run-instance.ts';
import { buildV1App } from './app.ts';
import { refuseContractedSchema } from './schema-check.ts';

await runInstance('v1', { checkSchema: refuseContractedSchema, buildApp: buildV1App });
