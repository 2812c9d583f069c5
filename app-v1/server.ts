// Entry point of v1: only starts it (npm run start:v1).
import { runInstance } from '../shared/server/run-instance.ts';
import { buildV1App } from './app.ts';

await runInstance('v1', { buildApp: buildV1App });
