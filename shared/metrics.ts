// Prometheus metrics, one registry per app instance (several instances may share a test process).
// Served on /metrics, which the public balancer does not proxy.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestHandler } from 'express';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createMetrics(appVersion: string, instanceId: string, { processMetrics = true } = {}) {
  const registry = new Registry();
  registry.setDefaultLabels({ version: appVersion, instance: instanceId });
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const metric = { registers: [registry] };
  return {
    registry,
    requests: new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by route, method and status', labelNames: ['route', 'method', 'status'], ...metric }),
    requestSeconds: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency, by route and method',
      labelNames: ['route', 'method'],
      buckets: LATENCY_BUCKETS,
      ...metric,
    }),
    dualWriteSeconds: new Histogram({
      name: 'dual_write_duration_seconds',
      help: 'time spent in the dual-write statements of one write, by strategy and operation',
      labelNames: ['strategy', 'operation'],
      buckets: LATENCY_BUCKETS,
      ...metric,
    }),
    readsBySource: new Counter({ name: 'user_reads_total', help: 'GET /users/:id answered, by the column that served it', labelNames: ['source'], ...metric }),
    readFallbacks: new Counter({
      name: 'read_fallbacks_total',
      help: 'reads sent to profile_data that fell back to the old columns (missing, invalid or different)',
      labelNames: ['reason'],
      ...metric,
    }),
    shadowMismatches: new Counter({
      name: 'shadow_mismatches_total',
      help: 'shadow compares where profile_data was missing, invalid or different from the old columns',
      labelNames: ['reason'],
      ...metric,
    }),
    repairs: new Counter({ name: 'repair_on_read_total', help: 'rows whose missing profile_data was filled on read', ...metric }),
    flagValue: new Gauge({ name: 'feature_flag_value', help: 'flag values this instance has loaded (booleans as 0/1)', labelNames: ['flag'], ...metric }),
    flagSetVersion: new Gauge({ name: 'feature_flag_set_version', help: 'the flag-set version this instance has loaded', ...metric }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Counts and times every request by its route pattern (never the raw URL: ids would explode the label set). */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path === '/' ? '' : req.route.path}` : 'unmatched';
      metrics.requests.inc({ route, method: req.method, status: res.statusCode });
      metrics.requestSeconds.observe({ route, method: req.method }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
