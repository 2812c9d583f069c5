// Entry point of v2: only starts it (npm run start:v2).
import { runInstance } from '../shared/server/run-instance.ts';
import { buildV2App } from './app.ts';

await runInstance('v2', { buildApp: buildV2App });
