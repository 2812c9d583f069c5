// Prometheus metrics, one registry per app instance (several instances may share a test process).
// Served on /metrics, which the public balancer does not proxy. Every series carries version and instance
// (default labels), so one scrape of each instance tells v1 from v2.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Request, RequestHandler } from 'express';
import { columns, mapping } from './schema-mapping.ts';

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
      help: 'HTTP request latency, by route, method and status',
      labelNames: ['route', 'method', 'status'],
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
    readsBySource: new Counter({ name: 'user_reads_total', help: `GET ${mapping.route}/:id answered, by the column that served it`, labelNames: ['source'], ...metric }),
    readFallbacks: new Counter({
      name: 'read_fallbacks_total',
      help: `reads sent to ${columns.new} that fell back to the old columns (missing, invalid or different)`,
      labelNames: ['reason'],
      ...metric,
    }),
    dualReadMismatches: new Counter({
      name: 'dual_read_mismatches_total',
      help: `dual-read compares where ${columns.new} was missing, invalid or different from the old columns`,
      labelNames: ['reason'],
      ...metric,
    }),
    repairs: new Counter({ name: 'repair_on_read_total', help: `rows whose missing ${columns.new} was filled on read`, ...metric }),
    flagValue: new Gauge({ name: 'feature_flag_value', help: 'flag values this instance has loaded (booleans as 0/1)', labelNames: ['flag'], ...metric }),
    flagSetVersion: new Gauge({ name: 'feature_flag_set_version', help: 'the flag-set version this instance has loaded', ...metric }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The route pattern that matched (/users/:id), or 'unmatched'. After an error Express has left the router and
 * reset req.baseUrl, so the mount is rebuilt from the URL: the path minus as many segments as the pattern has.
 */
export function routeLabel(req: Request): string {
  const pattern: unknown = req.route?.path;
  if (typeof pattern !== 'string') return 'unmatched';
  const own = pattern === '/' ? '' : pattern;
  const segments = req.originalUrl.split('?')[0]!.split('/').filter(Boolean);
  const ownSegments = own.split('/').filter(Boolean).length;
  const mount = req.baseUrl || `/${segments.slice(0, Math.max(0, segments.length - ownSegments)).join('/')}`;
  return `${mount === '/' ? '' : mount}${own}` || '/';
}

/** Counts and times every request by its route pattern (never the raw URL: ids would explode the label set). */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = routeLabel(req);
      metrics.requests.inc({ route, method: req.method, status: res.statusCode });
      metrics.requestSeconds.observe({ route, method: req.method, status: res.statusCode }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
