// Structured JSON logs (pino) tagged with instance and version. Quiet by default (warn): the demo and the
// tests print summaries, not request lines.
import { pino } from 'pino';
import type { Logger } from 'pino';

export function createLogger({ level, instanceId, appVersion }: { level: string; instanceId: string; appVersion: string }): Logger {
  return pino({ level, base: { instance: instanceId, version: appVersion } });
}
