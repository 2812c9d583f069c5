// Prometheus metrics, one registry per app instance (several instances may share a test process).
// Served on /metrics, which the public balancer does not proxy.
import { Counter, Registry } from 'prom-client';

export function createMetrics(appVersion: string, instanceId: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ version: appVersion, instance: instanceId });
  return {
    registry,
    readsBySource: new Counter({ name: 'user_reads_total', help: 'GET /users/:id answered, by the column that served it', labelNames: ['source'], registers: [registry] }),
    readFallbacks: new Counter({
      name: 'read_fallbacks_total',
      help: 'reads sent to profile_data that fell back to the old columns (missing, invalid or different)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    shadowMismatches: new Counter({
      name: 'shadow_mismatches_total',
      help: 'shadow compares where profile_data was missing, invalid or different from the old columns',
      labelNames: ['reason'],
      registers: [registry],
    }),
    repairs: new Counter({ name: 'repair_on_read_total', help: 'rows whose missing profile_data was filled on read', registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
